"""Regenerate the example's model file: a legacy-format state_dict that torch 1.0 can load.

Run with any torch >= 1.6: ``python examples/pytorch-py27/make_example.py``. The weights are
seeded, so the state_dict's values are the same on every run.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn


class Net(nn.Module):
    """The MNIST MLP of the platform's PyTorch example, made smaller."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden1 = nn.Linear(784, 32, bias=False)
        self.output = nn.Linear(32, 10, bias=False)


def main() -> None:
    torch.manual_seed(20190101)
    target = Path(__file__).resolve().parent / "model" / "mnist_mlp.pth"
    # torch 1.0 has no reader for the zip format (torch >= 1.6's default) and Python 2.7 reads
    # pickle protocols up to 2: both settings are needed for the PyTorch-py27 template.
    torch.save(Net().state_dict(), target, _use_new_zipfile_serialization=False, pickle_protocol=2)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
