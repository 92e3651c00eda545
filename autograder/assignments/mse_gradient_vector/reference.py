"""Assignment 2's math, once: the trusted side only (never in the sandbox or the student kit).

Model and cost for n instances with d features, X of shape (n, d):

    y_hat = X w + b 1                       w of shape (d,), b a number
    C     = 1/n sum_i (y_hat_i - y_i)^2
    dC/dw = 2/n X^T (X w + b 1 - y)         shape (d,); index j: 2/n sum_i (y_hat_i - y_i) X_ij
    dC/db = 2/n 1^T (X w + b 1 - y)

With d = 1 and X the column of x, w = [m]: dC/dw = [dC/dm] and dC/db is the
lecture's dC/db. The Hessian is H = 2/n [[X^T X, X^T 1], [1^T X, n]], and
gradient descent is stable for lr < 2 / lambda_max(H).

Mini-batch SGD (``minibatch_sgd``): one torch.Generator seeded once with
``seed``; each epoch draws ``torch.randperm(n, generator=g)`` and walks it in
batches of ``batch_size`` (the last one shorter when batch_size does not
divide n), taking one step per batch with that batch's gradient. With
batch_size >= n every epoch is one full-batch step: plain gradient descent.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from autograder.assignments.mse_gradient_vector.data import (B_START_VECTOR, W_START, diabetes,  # noqa: F401
                                                             lecture_data)

LR = 0.01


def _flat(w) -> torch.Tensor:
    return torch.as_tensor(w).reshape(-1)


def predict(X: torch.Tensor, w, b) -> torch.Tensor:
    """y_hat = X w + b, shape (n,), for w of shape (d,) or (d, 1)."""
    return X @ _flat(w).to(X.dtype) + torch.as_tensor(b, dtype=X.dtype).reshape(())


def cost(X: torch.Tensor, y: torch.Tensor, w, b) -> torch.Tensor:
    """C = 1/n sum (y_hat - y)^2."""
    return torch.mean((predict(X, w, b) - y) ** 2)


def grad_w(X: torch.Tensor, y: torch.Tensor, w, b) -> torch.Tensor:
    """dC/dw = 2/n X^T (X w + b - y), shape (d,)."""
    return 2 * X.T @ (predict(X, w, b) - y) / len(y)


def grad_b(X: torch.Tensor, y: torch.Tensor, w, b) -> torch.Tensor:
    """dC/db = 2/n sum (X w + b - y), a 0-d tensor."""
    return 2 * torch.sum(predict(X, w, b) - y) / len(y)


@dataclass(frozen=True)
class Gradients:
    cost: float
    w: np.ndarray
    b: float


def autograd_gradients(X, y, w, b, dtype: torch.dtype = torch.float64) -> Gradients:
    """C, dC/dw (d,) and dC/db by torch autograd at `dtype`: the judge's truth."""
    X = torch.as_tensor(np.asarray(X), dtype=dtype)
    y = torch.as_tensor(np.asarray(y), dtype=dtype)
    w = torch.tensor(np.asarray(w, dtype=np.float64).reshape(-1), dtype=dtype, requires_grad=True)
    b = torch.tensor(float(np.asarray(b, dtype=np.float64).reshape(())), dtype=dtype, requires_grad=True)
    c = torch.mean((X @ w + b - y) ** 2)
    c.backward()
    return Gradients(c.item(), w.grad.numpy().copy(), b.grad.item())


def hessian(X) -> np.ndarray:
    """H = 2/n [[X^T X, X^T 1], [1^T X, n]], shape (d + 1, d + 1)."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    augmented = np.hstack([X, np.ones((n, 1))])
    return 2.0 / n * augmented.T @ augmented


def max_stable_lr(X) -> float:
    """2 / lambda_max(H): full-batch gradient descent diverges above this learning rate."""
    return float(2.0 / np.linalg.eigvalsh(hessian(X))[-1])


def least_squares(X, y) -> tuple[np.ndarray, float]:
    """The minimiser (w, b) of C, by least squares at float64."""
    X = np.asarray(X, dtype=np.float64)
    augmented = np.hstack([X, np.ones((X.shape[0], 1))])
    solution, *_ = np.linalg.lstsq(augmented, np.asarray(y, dtype=np.float64), rcond=None)
    return solution[:-1], float(solution[-1])


def epoch_orders(n: int, epochs: int, seed: int) -> list[np.ndarray]:
    """The order of the instances in each epoch: one generator seeded once, one randperm per epoch."""
    generator = torch.Generator().manual_seed(int(seed))
    return [torch.randperm(n, generator=generator).numpy() for _ in range(epochs)]


def batches(order: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """`order` cut into consecutive batches of batch_size (the last one may be shorter)."""
    return [order[start:start + batch_size] for start in range(0, len(order), batch_size)]


@dataclass
class MinibatchPath:
    """Every step of a mini-batch run: w and b before each step and at the end, and each step's batch."""

    w: list[np.ndarray] = field(default_factory=list)
    b: list[float] = field(default_factory=list)
    batches: list[np.ndarray] = field(default_factory=list)

    def final(self) -> tuple[np.ndarray, float]:
        return self.w[-1], self.b[-1]


def minibatch_sgd(X, y, w, b, lr: float = LR, epochs: int = 1, batch_size: int = 32, seed: int = 0,
                  orders: list[np.ndarray] | None = None) -> MinibatchPath:
    """Mini-batch SGD at float64 (numpy), recording the whole path; `orders` replaces the seeded shuffle."""
    n = np.asarray(X).shape[0]
    orders = epoch_orders(n, epochs, seed) if orders is None else orders
    steps = [batch for order in orders for batch in batches(np.asarray(order), batch_size)]
    return walk_batches(X, y, w, b, lr, steps)


def walk_batches(X, y, w, b, lr: float, steps, *, scale=None, sequential: bool = False) -> MinibatchPath:
    """One gradient step per batch of `steps` (arrays of row indices), at float64, recording the path.

    ``scale(batch size)`` multiplies each step (1 unless given); ``sequential`` takes b's gradient
    at the w already updated. Both exist for the catalogue of mistakes; the defaults are the method.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64).reshape(-1).copy()
    b = float(np.asarray(b, dtype=np.float64).reshape(()))
    path = MinibatchPath([w.copy()], [b])
    for batch in steps:
        batch = np.asarray(batch, dtype=int)
        factor = 1.0 if scale is None else scale(len(batch))
        residual = X[batch] @ w + b - y[batch]
        w = w - lr * factor * (2.0 / len(batch)) * (X[batch].T @ residual)
        if sequential:
            residual = X[batch] @ w + b - y[batch]
        b = b - lr * factor * (2.0 / len(batch)) * float(np.sum(residual))
        path.w.append(w.copy())
        path.b.append(b)
        path.batches.append(batch)
    return path


def gradient_descent(X, y, w, b, lr: float = LR, epochs: int = 1) -> MinibatchPath:
    """Plain full-batch gradient descent: mini-batch SGD with one batch of every instance, in order."""
    n = np.asarray(X).shape[0]
    return minibatch_sgd(X, y, w, b, lr, epochs, n, orders=[np.arange(n)] * epochs)


# --- For the lesson and the video (course/, animations/): views of the functions above ---------

def steps_per_epoch(n: int, batch_size: int) -> int:
    """How many steps one epoch of ``minibatch_sgd`` takes: ceil(n / batch_size)."""
    return -(-int(n) // int(batch_size))


def path_costs(X, y, path: MinibatchPath) -> np.ndarray:
    """C on all of (X, y), at float64, at every point of ``path``: shape (steps + 1,)."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    residuals = np.asarray(path.w) @ X.T + np.asarray(path.b)[:, None] - y
    return np.mean(residuals ** 2, axis=1)


def cost_surface(X, y, w1_values, w2_values, b) -> np.ndarray:
    """C over a grid of two weights (d = 2), b fixed, at float64.

    result[i, j] is C at w = (w1_values[j], w2_values[i]) (matplotlib's contour order).
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"cost_surface needs two features, X has shape {X.shape}")
    w1, w2 = np.meshgrid(np.asarray(w1_values, float), np.asarray(w2_values, float))
    # C = mean((w1 x1 + w2 x2 + r)^2) with r = b - y, expanded into its six means so that a
    # fine grid does not build a residual per grid point and instance (agrees with cost() to rounding).
    x1, x2, r = X[:, 0], X[:, 1], float(b) - y
    return (w1 ** 2 * np.mean(x1 * x1) + w2 ** 2 * np.mean(x2 * x2) + 2 * w1 * w2 * np.mean(x1 * x2)
            + 2 * w1 * np.mean(x1 * r) + 2 * w2 * np.mean(x2 * r) + np.mean(r * r))
