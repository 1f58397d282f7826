"""Which torch release has which torch.nn / torch.optim / torch.utils class (issue 8, requirement 6)."""

from __future__ import annotations

import io

import torch

from modeltemplates.checks.modelfile import check_model_file
from modeltemplates.inspect import torchfacts as tf
from modeltemplates.runtime import Runtime
from tests.builders import torch_bytes

PY27 = Runtime("PyTorch", "1.0", "2.7")


def test_table_is_derived_data_with_its_source() -> None:
    oldest, table = tf._class_table()
    assert len(table) > 200
    assert oldest == (1, 0)
    assert tf.torch_class_since("torch.nn.modules.linear", "Linear") == (1, 0)
    assert tf.torch_class_since("torch.nn.modules.activation", "MultiheadAttention") == (1, 1)
    assert tf.torch_class_since("torch.nn.modules.activation", "GELU") == (1, 4)
    assert tf.torch_class_since("torch.nn.modules.activation", "SiLU") == (1, 7)
    assert tf.torch_class_since("torch.nn.modules.transformer", "TransformerEncoder") == (1, 2)
    assert tf.torch_class_since("torch.optim.adamw", "AdamW") == (1, 2)
    assert tf.torch_class_since("torch.utils.data.dataset", "Dataset") == (1, 0)
    assert tf.torch_class_since("collections", "OrderedDict") is None
    # Every class the local torch defines in torch.nn.modules is in the table.
    for name in ("Conv2d", "BatchNorm2d", "LSTM", "Identity", "Flatten", "Unflatten"):
        cls = getattr(torch.nn, name)
        assert tf.torch_class_since(cls.__module__, cls.__name__) is not None, name


def _check(obj: object) -> list[tuple[str, str]]:
    data = torch_bytes(obj)
    result = check_model_file("model.pth", io.BytesIO(data), len(data), PY27)
    return [(f.rule, f.message) for f in result.findings]


def test_whole_module_with_a_layer_newer_than_the_target_fails_to_load() -> None:
    found = _check(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.GELU(), torch.nn.Identity()))
    new = sorted(m for r, m in found if r == "MOD035")
    assert len(new) == 2
    assert "torch.nn.modules.activation.GELU first appears in torch 1.4" in new[0]
    assert "torch.nn.modules.linear.Identity first appears in torch 1.1" in new[1]
    assert all("torch 1.0 has no" in m for m in new)


def test_whole_module_of_layers_the_target_has_is_only_the_state_dict_warning() -> None:
    found = _check(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU()))
    assert "MOD035" not in {r for r, _ in found}
    assert "MOD017" in {r for r, _ in found}
