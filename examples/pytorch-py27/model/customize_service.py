# -*- coding: utf-8 -*-
"""Inference code for the MNIST MLP, in the style of the platform's PyTorch example.

Runs under the PyTorch-py27 template: Python 2.7 syntax, PyTorch 1.0 API.
"""
import json
import logging
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from model_service.pytorch_model_service import PTServingBaseService

logger = logging.getLogger(__name__)


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.hidden1 = nn.Linear(784, 32, bias=False)
        self.output = nn.Linear(32, 10, bias=False)

    def forward(self, x):
        x = x.view(x.size()[0], -1)
        x = F.relu(self.hidden1(x))
        return F.log_softmax(self.output(x), dim=1)


class MnistService(PTServingBaseService):
    def __init__(self, model_name, model_path):
        super(MnistService, self).__init__(model_name, model_path)
        self.model = Net()
        self.model.load_state_dict(torch.load(model_path, map_location="cpu"))
        self.model.eval()
        # Files next to the model are read through self.model_path, never a relative path.
        dir_path = os.path.dirname(os.path.realpath(self.model_path))
        with open(os.path.join(dir_path, "label.json")) as f:
            self.labels = json.load(f)

    def _preprocess(self, data):
        preprocessed = {}
        for k, v in data.items():
            batch = []
            for file_name, file_content in v.items():
                image = Image.open(file_content).convert("L").resize((28, 28))
                pixels = np.asarray(image, dtype=np.float32) / 255.0
                batch.append(torch.from_numpy(pixels))
            preprocessed[k] = torch.stack(batch, dim=0)
        return preprocessed

    def _inference(self, data):
        result = {}
        with torch.no_grad():
            for k, v in data.items():
                result[k] = self.model(v)
        return result

    def _postprocess(self, data):
        results = []
        for k, v in data.items():
            index = int(torch.argmax(v[0]))
            logger.info("%s -> %s", k, self.labels[index])
            results.append({k: self.labels[index]})
        return results
