# -*- coding: utf-8 -*-
import os
import json

import torch
import torch.nn as nn
from model_service.pytorch_model_service import PTServingBaseService


class Classifier(nn.Module):
    def __init__(self):
        super(Classifier, self).__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)


class FlowerService(PTServingBaseService):
    def __init__(self, model_name, model_path):
        super(FlowerService, self).__init__(model_name, model_path)
        self.model = Classifier()
        self.model.load_state_dict(torch.load(model_path, map_location="cpu"))
        self.model.eval()
        folder = os.path.dirname(os.path.realpath(model_path))
        with open(os.path.join(folder, "labels.json")) as f:
            self.labels = json.load(f)

    def _preprocess(self, data):
        return {k: torch.tensor(v, dtype=torch.float32) for k, v in data.items()}

    def _postprocess(self, data):
        return {"result": [self.labels[int(i)] for i in data]}
