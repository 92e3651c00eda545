"""The lecture's data and starting line: what the student's notebook may import, and nothing else.

This module holds numbers only. It is the one module of the grader's package
that the released notebook imports and that exists where student code runs
(the sandbox, the student kit); nothing here computes an answer.
"""
from __future__ import annotations

import torch

# The lecture's eight instances and starting point.
X_LECTURE = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0)
Y_LECTURE = (1.86, 1.31, 0.62, 0.33, 0.09, -0.67, -1.23, -1.37)
M_START = 0.9
B_START = 0.1


def lecture_data(dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """The lecture's (x, y), each of shape (8,). float32 is what the lecture uses."""
    return torch.tensor(X_LECTURE, dtype=dtype), torch.tensor(Y_LECTURE, dtype=dtype)
