"""How a case's plain numbers become the arguments a student's function receives, and how numbers are read back.

Shared by the trusted side (``autograder.cases`` builds the cases, the judge
rounds them as the student saw them) and the sandbox (``autograder.probes``
calls the student with them). Nothing here computes an answer.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

PARAM_FORMS = ("float", "0-d tensor", "shape-[1] tensor")
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _field(case, name: str):
    return case[name] if isinstance(case, Mapping) else getattr(case, name)


def param(value: float, form: str, dtype: torch.dtype):
    """m or b as the student receives it: a Python float, a 0-d or a shape-[1] tensor."""
    if form == "float":
        return float(value)
    if form == "0-d tensor":
        return torch.tensor(value, dtype=dtype)
    if form == "shape-[1] tensor":
        return torch.tensor([value], dtype=dtype)
    raise ValueError(f"unknown parameter form {form!r}")


def tensors(case):
    """(x, y, m, b) of a case (a case object or its plain dict): fresh copies every call."""
    dtype = DTYPES[_field(case, "dtype")]
    form = _field(case, "form")
    x = torch.tensor(np.asarray(_field(case, "x"), dtype=np.float64), dtype=dtype)
    y = torch.tensor(np.asarray(_field(case, "y"), dtype=np.float64), dtype=dtype)
    return x, y, param(float(_field(case, "m")), form, dtype), param(float(_field(case, "b")), form, dtype)


def as_scalar(value) -> float:
    """A float from a Python number, numpy scalar, 0-d or one-element tensor/array."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"expected one number, got a tensor of shape {tuple(value.shape)}")
        return float(value.detach().reshape(()).item())
    array = np.asarray(value, dtype=float)
    if array.size != 1:
        raise ValueError(f"expected one number, got shape {array.shape}")
    return float(array.reshape(()))
