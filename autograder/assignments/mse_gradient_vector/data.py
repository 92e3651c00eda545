"""Assignment 2's data: what its notebook may import, and nothing else.

Numbers only, as for assignment 1 (``autograder.data``): the lecture's eight
points as the one-feature case, and scikit-learn's bundled diabetes data
(442 patients, 10 features), read from the files scikit-learn ships without
importing scikit-learn and without any download. Nothing here computes an
answer.
"""
from __future__ import annotations

import functools
import importlib.util
import os

import numpy as np
import torch

from autograder.data import B_START, M_START, X_LECTURE, Y_LECTURE

# The lecture's line as the d = 1 case: w = [m], X the column of x.
W_START = (M_START,)
B_START_VECTOR = B_START

DIABETES_SOURCE = "scikit-learn's bundled diabetes data (Efron et al., 2004): 442 patients, 10 baseline measurements"
DIABETES_FEATURES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")


def lecture_data(dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """The lecture's points as (X, y): X of shape (8, 1), y of shape (8,)."""
    return torch.tensor(X_LECTURE, dtype=dtype).reshape(-1, 1), torch.tensor(Y_LECTURE, dtype=dtype)


class DataMissing(RuntimeError):
    """scikit-learn, which ships the diabetes data, is not installed."""


def _diabetes_folder() -> str:
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.origin:
        raise DataMissing("the diabetes data comes with scikit-learn: pip install scikit-learn")
    return os.path.join(os.path.dirname(spec.origin), "datasets", "data")


@functools.lru_cache(maxsize=1)
def _diabetes_arrays() -> tuple[np.ndarray, np.ndarray]:
    folder = _diabetes_folder()
    features = np.loadtxt(os.path.join(folder, "diabetes_data_raw.csv.gz"))
    target = np.loadtxt(os.path.join(folder, "diabetes_target.csv.gz"))
    # Each feature as z-scores (mean 0, standard deviation 1), so one learning rate suits them all;
    # the target stays in its own units (a measure of disease progression a year later).
    features = (features - features.mean(axis=0)) / features.std(axis=0)
    return features, target


def diabetes(dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """The diabetes data as (X, y): X of shape (442, 10), standardised features; y of shape (442,)."""
    features, target = _diabetes_arrays()
    return torch.tensor(features, dtype=dtype), torch.tensor(target, dtype=dtype)
