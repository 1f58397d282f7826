"""Builders for real test artefacts: package folders, torch checkpoints, service scripts."""

from __future__ import annotations

import io
import os
from pathlib import Path

#: A Python-2.7-valid inference script in the style of the platform's PyTorch example.
SERVICE_PY27 = '''\
# -*- coding: utf-8 -*-
import os
import json

import torch
import torch.nn as nn
from model_service.pytorch_model_service import PTServingBaseService


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)


class DemoService(PTServingBaseService):
    def __init__(self, model_name, model_path):
        super(DemoService, self).__init__(model_name, model_path)
        self.model = Net()
        self.model.load_state_dict(torch.load(model_path, map_location="cpu"))
        self.model.eval()
        dir_path = os.path.dirname(os.path.realpath(self.model_path))
        with open(os.path.join(dir_path, "labels.json")) as f:
            self.labels = json.load(f)

    def _preprocess(self, data):
        out = {}
        for k, v in data.items():
            out[k] = torch.tensor(v, dtype=torch.float32)
        return out

    def _postprocess(self, data):
        return {"result": [self.labels[int(i)] for i in data]}
'''


def tiny_state_dict() -> dict[str, object]:
    import torch

    torch.manual_seed(0)
    return dict(torch.nn.Linear(4, 2).state_dict())


def torch_bytes(obj: object, *, legacy: bool = True, protocol: int = 2) -> bytes:
    """Real ``torch.save`` output: legacy format (what torch 1.0 reads) or the zip format."""
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=not legacy, pickle_protocol=protocol)
    return buf.getvalue()


class PackageBuilder:
    """Writes files into a package folder; paths are POSIX, relative to the folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, rel: str) -> Path:
        return self.root.joinpath(*rel.split("/"))

    def write(self, rel: str, content: bytes | str = b"") -> Path:
        target = self.path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        target.write_bytes(data)
        return target

    def mkdir(self, rel: str) -> Path:
        target = self.path(rel)
        target.mkdir(parents=True, exist_ok=True)
        return target

    def symlink(self, rel: str, target: str) -> Path:
        link = self.path(rel)
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, link)
        return link

    def model(self, rel: str = "resnet50.pth", *, legacy: bool = True) -> Path:
        return self.write(rel, torch_bytes(tiny_state_dict(), legacy=legacy))

    def valid(self) -> PackageBuilder:
        """A package the PyTorch-py27 template accepts without errors."""
        self.model()
        self.write("customize_service.py", SERVICE_PY27)
        self.write("labels.json", '["cat", "dog"]\n')
        return self
