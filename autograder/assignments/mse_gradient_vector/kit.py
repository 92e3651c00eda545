"""Assignment 2's visible checks, as the student kit runs them: truth from torch autograd, computed live.

``msegrad kit --assignment mse-gradient-vector`` installs this one file as
``autograder.checks`` beside the unit's data module, and nothing else of the
grader: no hidden check, no answer key, no hand-derived formula. The release
notebook's visible test cells call it as they call the grader's own module:

    from autograder.checks import check
    check("grad_w_lecture_data")        # prints feedback; its value is the points earned

and ``msegrad check mse_gradient_vector.ipynb`` runs the notebook's code and
every visible check from a terminal. Every expected value is autograd's at
float64: the gradients, each instance's share of them, the mini-batch
reference path (a loop over one torch.Generator seeded once, one randperm
per epoch, whose every step takes autograd's gradient) and the Hessian
(its columns are autograd's gradients at the unit vectors). A wrong answer
is named by comparing it with autograd's own quantities (half of it, n
times it, the other parameter's gradient, the path without a shuffle, ...),
with the grader's sentences, so the points equal the grader's on these checks.

It imports only the standard library, numpy, torch and the unit's data.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import inspect
import json
import os
import signal
import sys
import textwrap
import threading
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from autograder.assignments.mse_gradient_vector.data import B_START_VECTOR, W_START, diabetes, lecture_data

# Read by `msegrad kit` (as literals, without importing this file): what the kit needs beyond torch
# and numpy, and the words of its README.
REQUIRES = {"scikit-learn>=1.3": "the notebook's diabetes data is read from the files scikit-learn ships; "
                                 "nothing is downloaded"}
SUMMARY = ("You write the gradient of the mean squared error of a linear model with many features\n"
           "(X w + b) by hand, mini-batch SGD with it, and the largest stable learning rate.")
VISIBLE_DATA = "the lecture's data as d = 1 and the diabetes data's first patients"

# cell id -> (function, points, what it checks): the release's visible test cells (course.toml's
# points; `msegrad kit` writes the course's own below).
VISIBLE = {
    "grad_w_lecture_data": ("grad_w", 1, "grad_w equals autograd on the lecture's eight points as d = 1 (w of "
                                         "shape (1,) and (1, 1)), and on the diabetes data's first ten patients "
                                         "(n = d = 10)."),
    "grad_b_lecture_data": ("grad_b", 1, "grad_b equals autograd on the lecture's eight points as d = 1 (w of "
                                         "shape (1,) and (1, 1)), and on the diabetes data's first ten patients."),
    "minibatch_sgd_lecture_run": ("minibatch_sgd", 2, "minibatch_sgd with batch_size = n reproduces the "
                                  "lecture's first step and its converged line (lr 0.01, 1001 epochs), and "
                                  "follows the reference on the lecture's data in batches of 3."),
    "max_stable_lr_lecture_data": ("max_stable_lr", 1, "max_stable_lr gives 2 / lambda_max of the Hessian on "
                                   "the lecture's eight points and on the diabetes data's first twenty patients."),
}
HIDDEN_POINTS = 8      # the hidden checks' points, run when the work is graded
CALL_SECONDS = 10.0    # one call of a student's function
FUNCTIONS = ("grad_w", "grad_b", "minibatch_sgd", "max_stable_lr")
GRADIENT_FUNCTIONS = ("grad_w", "grad_b")
STAND_IN_NAMES = ("grad_w", "grad_b")

# The visible cases' settings (the grader's, for the cells students can see).
LR = 0.01
LECTURE_EPOCHS = 1001           # the lecture's run: one step by hand, then 1000 epochs
LECTURE_BATCH = 3
DIABETES_SQUARE = 10            # n = d = 10: X w and X^T r both exist, so "X instead of X^T" gives numbers
DIABETES_RUN = (12, 4, 2, 1)    # rows, batch_size, epochs, seed
DIABETES_RATE_ROWS = 20

# How close a right answer must be: the worst-case rounding of computing the case's own numbers at
# float32 (an answer widened to float64 afterwards does not show it), as the grader bounds it.
U = 2.0 ** -24                  # float32's unit roundoff
TINY = 2.0 ** -126              # float32's smallest normal number
SAFETY = 2.0                    # first-order bounds, doubled for the second-order terms
OPERATIONS_PER_TERM = 16        # roundings inside one term of a sum besides the summation
OPERATIONS_PER_STEP = 4         # roundings of one update w - lr * g besides the gradient's own
REL_FLOOR = 1e-300
DESCENT_NAME_REL = 1e-4         # naming a descent mistake allows this much relative room beyond that
DIVERGED = 1e6                  # a run that should diverge matches a result beyond this size
CALL_LIMIT = 256                # stand-in calls recorded per minibatch_sgd call
AUTOGRAD_NAMES = frozenset({"backward", "autograd", "requires_grad", "requires_grad_"})
# Autograd as the kit uses it, kept before any student code can replace it.
_GRAD = torch.autograd.grad

# --- the grader's sentences ------------------------------------------------------------------------

GRADIENT_SENTENCES = {
    "x_not_transposed": "multiplies the residual by X instead of X^T: component j sums over the instances, "
                        "dC/dw_j = 2/n sum_i (y_hat_i - y_i) X_ij, which is (X^T r)_j, the transpose of X times r "
                        "(X r only exists when n = d, and then it is the wrong sum).",
    "missing_two": "is half the expected value: the factor 2 from the power rule is missing "
                   "(d/du u^2 = 2u, so dC/dr_i = 2 r_i / n).",
    "missing_mean": "is n times too large: the 1/n of the mean is missing (C = 1/n sum_i r_i^2 averages over "
                    "the n instances).",
    "sign_flipped": "has the wrong sign: the residual is r = X w + b - y (prediction minus target), "
                    "and dr_i/dy_hat_i = +1.",
    "bias_ignored": "leaves b out of the prediction: y_hat = X w + b 1, so the residual is X w + b - y.",
    "mean_wrong_axis": "averages over the wrong axis: dC/dw_j sums over the instances i (axis 0 of X, the rows), "
                       "giving one number per feature j, shape (d,); summing over the features (axis 1) gives one "
                       "number per instance instead.",
    "broadcast_column": "lets w of shape (d, 1) make X w a column of shape (n, 1); minus y of shape (n,) it "
                        "broadcast to an n x n matrix (y_hat_i - y_k), so every prediction met every target. "
                        "Flatten w (w.reshape(-1)) so that the residual r = X w + b - y has shape (n,).",
    "returns_cost": "returns the cost C = 1/n sum_i r_i^2 itself, not its derivative.",
    "per_instance": "returns one value per instance: the chain rule sums the per-instance terms over i "
                    "(dC/dw = 2/n X^T r has shape (d,); dC/db = 2/n sum_i r_i is one number).",
    "missing_x": "is missing the factor X_ij: by the chain rule dy_hat_i/dw_j = X_ij (what you computed is dC/db).",
    "returns_grad_w": "multiplies by X: dy_hat_i/db = 1, so dC/db = 2/n sum_i r_i has no X "
                      "(what you computed is dC/dw).",
}
DESCENT_SENTENCES = {
    "no_shuffle": "walks the instances in their given order every epoch: shuffle at the start of each epoch with "
                  "order = torch.randperm(n, generator=g), and take the batches from order.",
    "reseeded_shuffle": "uses the same order every epoch (the generator is re-seeded each epoch, or the data "
                        "shuffled once): seed one torch.Generator once, before the first epoch, and draw a new "
                        "torch.randperm(n, generator=g) at the start of each epoch.",
    "divides_by_n": "divides each batch's gradient by n instead of the batch's size: a batch's cost is the mean "
                    "over its own B instances, so its gradient carries 2/B (B = len(batch), the last batch may be "
                    "shorter).",
    "drops_last_batch": "skips the last, shorter batch: when batch_size does not divide n, the epoch ends with the "
                        "n % batch_size instances left over, and they take a step too (with batch_size > n, the "
                        "one batch is all n instances).",
    "ignores_batch_size": "takes one full-batch step per epoch whatever batch_size is: cut each epoch's order into "
                          "batches of batch_size and take one step per batch.",
    "sequential_update": "updates w before computing b's gradient, so grad_b is taken at the new w: compute both "
                         "gradients at the same (w, b), then update both.",
    "gradient_ascent": "climbs the cost: descent subtracts the gradient, w <- w - lr * grad_w (the gradient "
                       "points uphill).",
    "missing_lr": "steps by the whole gradient: the update is w <- w - lr * grad_w; without lr the steps overshoot.",
    "extra_epoch": "runs one epoch too many: loop exactly `epochs` times (range(epochs)).",
    "missing_epoch": "runs one epoch too few: loop exactly `epochs` times (range(epochs), not range(1, epochs)).",
    "unchanged": "returns the starting w and b unchanged: update them at every batch and return the updated "
                 "values.",
    "broadcast_square": "lets w of shape (d, 1) meet a gradient of shape (d,): w - lr * grad_w broadcast to a "
                        "(d, d) matrix. grad_w returns shape (d,) whatever w's shape; step with "
                        "w - lr * grad_w(...).reshape(w.shape) so w keeps its shape.",
}
RATE_SENTENCES = {
    "hessian_without_2_over_n": "uses X^T X (with its column of ones) without the 2/n in front: C = 1/n sum r_i^2, "
                                "so H = 2/n [[X^T X, X^T 1], [1^T X, n]]; without 2/n the rate is n/2 times too "
                                "small.",
    "hessian_missing_two": "leaves out the 2 of H = 2/n [[X^T X, X^T 1], [1^T X, n]] (the power rule's 2 is in the "
                           "Hessian too), so the rate is twice too large.",
    "hessian_without_mean": "leaves out the 1/n of H = 2/n [[X^T X, X^T 1], [1^T X, n]] (C is a mean), so the "
                            "rate is n times too small.",
    "one_over_lambda": "returns 1 / lambda_max: descent is stable while |1 - lr lambda| < 1 for every eigenvalue, "
                       "that is lr < 2 / lambda_max.",
    "hessian_without_bias": "uses the Hessian of w alone, 2/n X^T X: b is a parameter too, so H = 2/n A^T A with "
                            "A = [X, 1] (X with a column of ones).",
    "lambda_min": "uses the smallest eigenvalue: the step is stable only if it is stable along the steepest "
                  "direction, so the bound is 2 / lambda_max.",
    "returns_lambda_max": "returns lambda_max itself: the largest stable learning rate is 2 / lambda_max.",
    "trace_instead": "divides by the trace of H (the sum of all eigenvalues) instead of its largest eigenvalue "
                     "(torch.linalg.eigvalsh(H)[-1]).",
}
KIND_SENTENCES = {
    "not_implemented": "is not written yet (it raises NotImplementedError): replace the raise with your code.",
    "missing": "is not defined: run the cell that defines it, and keep its name and signature.",
    "error": "raised an error",
    "timeout": "did not finish in time (an endless loop, or far too much work per call?)",
    "returns_none": "returned None: is the `return` statement missing?",
    "wrong_type": "does not return a number or tensor",
    "shape": "has the wrong shape",
    "not_finite": "returned NaN or infinity (a division by zero, or an overflow?)",
    "memory": "asked for more memory than a check allows",
    "autograd": "uses autograd; this exercise asks for the derivative by hand, so it earns no points here",
    "unknown": "does not match autograd, and matches none of the common mistakes",
}
SGD_KIND_SENTENCES = {
    "wrong_type": "does not return the pair (w, b)",
    "pair_length": "does not return the pair (w, b)",
    "autograd": "lets torch compute the gradient (backward, torch.optim or torch.func); update w and b with "
                "grad_w and grad_b, by hand",
    "order": "visits the instances in another order than the reference: one torch.Generator seeded once with "
             "seed, then order = torch.randperm(n, generator=g) at the start of every epoch",
    "batch_size": "takes batches of other sizes than the reference: each epoch's order cut into consecutive "
                  "batches of batch_size (the last one shorter when batch_size does not divide n)",
    "update": "takes batches in the right order but steps wrongly: each batch moves w and b by -lr times "
              "that batch's gradient, both gradients taken at the same (w, b)",
    "unknown": "does not follow the reference path, and matches none of the common mistakes",
}
RATE_KIND_SENTENCES = {"unknown": "does not match 2 / lambda_max of the Hessian, and matches none of the "
                                  "common mistakes"}
OWN_GRADIENT_SENTENCE = ("minibatch_sgd computes its own gradient instead of calling {names}: call them for "
                         "each batch, so that it descends with the gradients you wrote and checked above.")
WHAT = {"grad_w": "matches autograd", "grad_b": "matches autograd",
        "minibatch_sgd": "follows the reference path", "max_stable_lr": "matches 2 / lambda_max of the Hessian"}


def _sentence(function: str, kind: str) -> str:
    """The grader's sentence for a mistake or kind of failure of `function`, after its name."""
    if function in GRADIENT_FUNCTIONS:
        text = GRADIENT_SENTENCES.get(kind)
    elif function == "minibatch_sgd":
        text = DESCENT_SENTENCES.get(kind) or SGD_KIND_SENTENCES.get(kind)
    else:
        text = RATE_SENTENCES.get(kind) or RATE_KIND_SENTENCES.get(kind)
    return f"{function} {text or KIND_SENTENCES.get(kind) or KIND_SENTENCES['unknown']}"


@dataclass
class Result:
    cell_id: str
    points: float
    max_points: float
    message: str
    mistake: str | None = None

    @property
    def passed(self) -> bool:
        return self.points >= self.max_points


@dataclass
class Outcome:
    """One case's verdict."""

    passed: bool
    kind: str | None                  # a mistake id or a kind of failure; None when passed
    detail: str
    explained: tuple = ()             # the mistakes whose numbers this failing case matches
    # coincides(mistake): whether the mistake gives the right answer's numbers on this passing case
    # (or cannot happen on it), so that passing it says nothing against that mistake.
    coincides: Callable | None = None


# --- the visible cases ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One visible case: float64 numbers and how the student receives them."""

    label: str
    X: np.ndarray
    y: np.ndarray = None
    w: np.ndarray = None
    b: float = 0.0
    dtype: str = "float32"
    w_form: str = "(d,)"
    b_form: str = "float"
    lr: float = LR
    epochs: int = 1
    batch_size: int = 1
    seed: int = 0

    def arguments(self):
        """(X, y, w, b) as the student receives them, fresh every call."""
        dtype = getattr(torch, self.dtype)
        X, y = torch.tensor(self.X, dtype=dtype), torch.tensor(self.y, dtype=dtype)
        w = torch.tensor(self.w, dtype=dtype).reshape(-1)
        w = w.reshape(-1, 1) if self.w_form == "(d, 1)" else w
        if self.b_form == "float":
            b = float(self.b)
        elif self.b_form == "0-d tensor":
            b = torch.tensor(self.b, dtype=dtype)
        else:
            b = torch.tensor([self.b], dtype=dtype)
        return X, y, w, b

    def effective(self):
        """X, y, w (d,) and b at float64, rounded through the dtype as the student sees them."""
        def rounded(values):
            array = np.asarray(values, dtype=np.float64)
            return array.astype(np.float32).astype(np.float64) if self.dtype == "float32" else array.copy()
        b = self.b if self.b_form == "float" else float(rounded(self.b))
        if self.y is None:
            return rounded(self.X)
        return rounded(self.X), rounded(self.y), rounded(self.w).reshape(-1), b


def _lecture():
    X, y = lecture_data(torch.float64)
    return X.numpy().copy(), y.numpy().copy()


def _diabetes(rows: int):
    X, y = diabetes(torch.float64)
    return X.numpy()[:rows].copy(), y.numpy()[:rows].copy()


@functools.lru_cache(maxsize=None)
def cases(function: str) -> tuple:
    """The visible cases of `function`'s visible check: the grader's, built from the notebook's data."""
    X, y = _lecture()
    w, b = np.array(W_START, dtype=float), float(B_START_VECTOR)
    if function in GRADIENT_FUNCTIONS:
        DX, Dy = _diabetes(DIABETES_SQUARE)
        return (
            Case("the lecture's data as d = 1, w = [0.9] of shape (1,), b = 0.1 a float",
                 X, y, w, b, "float32", "(d,)", "float"),
            Case("the lecture's data as d = 1, w = [[0.9]] of shape (1, 1), b a shape-[1] tensor",
                 X, y, w, b, "float32", "(d, 1)", "shape-[1] tensor"),
            Case(f"the diabetes data's first {DIABETES_SQUARE} patients (n = d = 10), w = 0, b = 0",
                 DX, Dy, np.zeros(DX.shape[1]), 0.0, "float32", "(d,)", "0-d tensor"),
        )
    if function == "minibatch_sgd":
        n = len(y)
        rows, size, epochs, seed = DIABETES_RUN
        DX, Dy = _diabetes(rows)
        d_lr = round(0.5 * _safe_lr(DX, size, epochs, seed), 6)
        return (
            Case(f"the lecture's first step (batch_size={n}, epochs=1)", X, y, w, b, "float32", "(d,)", "float",
                 LR, 1, n, 0),
            Case(f"the lecture's run (batch_size={n}, epochs={LECTURE_EPOCHS})", X, y, w, b, "float32", "(d,)",
                 "float", LR, LECTURE_EPOCHS, n, 0),
            Case(f"the lecture's data in batches of {LECTURE_BATCH} (epochs=2, seed=0)", X, y, w, b, "float32",
                 "(d,)", "float", LR, 2, LECTURE_BATCH, 0),
            Case(f"the diabetes data's first {rows} patients in batches of {size}, w of shape (10, 1) "
                 f"(lr={d_lr:g}, epochs={epochs}, seed={seed})",
                 DX, Dy, np.zeros(DX.shape[1]), 0.0, "float32", "(d, 1)", "float", d_lr, epochs, size, seed),
        )
    DX, _ = _diabetes(DIABETES_RATE_ROWS)
    return (Case("the lecture's x as X (8, 1)", X), Case(f"the diabetes data's first {DIABETES_RATE_ROWS} patients", DX))


# --- autograd's answers ---------------------------------------------------------------------------

def _cost(X, y, w, b):
    return torch.sum((X @ w + b - y) ** 2) / len(y)


def _autograd(X, y, w, b) -> dict:
    """Everything autograd says at float64 about C at these inputs (numpy arrays): the gradients, and each
    instance's share of them (one w and one b per instance, so each instance's term is its own gradient)."""
    X, y = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    n, d = X.shape
    w_i = torch.as_tensor(np.asarray(w, dtype=float).reshape(-1)).expand(n, d).clone().requires_grad_(True)
    b_i = torch.full((n,), float(b), dtype=torch.float64, requires_grad=True)
    cost = torch.sum((torch.sum(X * w_i, dim=1) + b_i - y) ** 2) / n
    terms_w, terms_b = _GRAD(cost, (w_i, b_i))
    terms_w, terms_b = terms_w.numpy(), terms_b.numpy()
    return {"cost": float(cost.detach()), "grad_w": terms_w.sum(axis=0), "grad_b": np.array([terms_b.sum()]),
            "terms_w": terms_w, "terms_b": terms_b, "n": n, "d": d}


def _gradient_candidates(function: str, X, y, w, b, w_form: str):
    """(mistake, numbers), in the grader's catalogue order: autograd's own quantities, scaled or moved."""
    truth = _autograd(X, y, w, b)
    g, n, d = truth[function], truth["n"], truth["d"]
    if function == "grad_w" and n == d and d > 1:
        yield "x_not_transposed", X @ truth["terms_b"]
    yield "missing_two", 0.5 * g
    yield "missing_mean", n * g
    yield "sign_flipped", -g
    yield "bias_ignored", _autograd(X, y, w, 0.0)[function]
    if function == "grad_w":
        per_instance = truth["terms_w"].sum(axis=1)       # one number per instance i: the sum over j
        yield "mean_wrong_axis", n / d * per_instance
        yield "mean_wrong_axis", per_instance
    if w_form == "(d, 1)" and n >= 2:
        # Every prediction met every target: column k is the gradient towards the constant target y_k.
        columns = [_autograd(X, np.full(n, target), w, b)[function] for target in y]
        yield "broadcast_column", (np.stack(columns, axis=1) if function == "grad_w" else np.sum(columns))
    yield "returns_cost", np.array([truth["cost"]])
    yield "per_instance", truth["terms_w"] if function == "grad_w" else truth["terms_b"]
    if function == "grad_w":
        yield "missing_x", truth["grad_b"]
    else:
        yield "returns_grad_w", truth["grad_w"]


def _hessian(X) -> np.ndarray:
    """The Hessian of C in (w, b), shape (d + 1, d + 1): C is quadratic, so its gradient at the unit vector
    e_k (with y = 0, where the gradient at 0 is 0) is the k-th column. Each column is autograd's."""
    X = torch.as_tensor(X, dtype=torch.float64)
    n, d = X.shape
    zero = torch.zeros(n, dtype=torch.float64)
    columns = []
    for k in range(d + 1):
        theta = torch.zeros(d + 1, dtype=torch.float64)
        theta[k] = 1.0
        theta.requires_grad_(True)
        (column,) = _GRAD(_cost(X, zero, theta[:d], theta[d]), (theta,))
        columns.append(column.numpy())
    H = np.stack(columns, axis=1)
    return (H + H.T) / 2


@functools.lru_cache(maxsize=4096)
def _eigenvalues(X_bytes: bytes, shape: tuple) -> np.ndarray:
    return np.linalg.eigvalsh(_hessian(np.frombuffer(X_bytes).reshape(shape).copy()))


def eigenvalues(X) -> np.ndarray:
    """The Hessian's eigenvalues, ascending."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    return _eigenvalues(X.tobytes(), X.shape)


def _safe_lr(X, batch_size: int, epochs: int, seed: int) -> float:
    """The largest lr at which every batch of the reference run contracts: 1 / the largest eigenvalue of
    any of its batches' Hessians."""
    steps = _steps(len(X), batch_size, _orders(len(X), max(1, epochs), seed))
    return float(1.0 / max(eigenvalues(X[batch])[-1] for batch in steps))


# --- the mini-batch reference, and its variants -----------------------------------------------------

def _orders(n: int, epochs: int, seed: int) -> list:
    """One generator seeded once, one randperm per epoch: each epoch's order of the instances."""
    g = torch.Generator()
    g.manual_seed(int(seed))
    return [torch.randperm(n, generator=g).numpy() for _ in range(epochs)]


def _steps(n: int, batch_size: int, orders) -> list:
    """Each epoch's order cut into batches of batch_size (the last may be shorter)."""
    return [order[first:first + batch_size] for order in orders for first in range(0, n, batch_size)]


@dataclass
class Path:
    """(w, b) before each step and at the end, each step's batch and its gradients' sizes."""

    w: list = field(default_factory=list)
    b: list = field(default_factory=list)
    batches: list = field(default_factory=list)
    gradients: list = field(default_factory=list)


def _walk(X, y, w, b, lr: float, steps, scale=None, sequential: bool = False) -> Path:
    """One step per batch of `steps` at float64, each with autograd's gradient of that batch's cost.
    ``scale(batch size)`` multiplies a step; ``sequential`` takes b's gradient at the new w (mistakes)."""
    X, y = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    w = torch.as_tensor(np.asarray(w, dtype=float).reshape(-1)).clone()
    b = torch.tensor(float(b), dtype=torch.float64)
    path = Path([w.numpy().copy()], [float(b)])
    with np.errstate(all="ignore"):
        for batch in steps:
            rows = torch.as_tensor(np.asarray(batch, dtype=np.int64))
            XB, yB = X[rows], y[rows]
            factor = 1.0 if scale is None else scale(len(rows))
            w_t, b_t = w.clone().requires_grad_(True), b.clone().requires_grad_(True)
            g_w, g_b = _GRAD(_cost(XB, yB, w_t, b_t), (w_t, b_t))
            path.gradients.append(float(torch.linalg.norm(g_w)) + abs(float(g_b)))
            w = w - lr * factor * g_w
            if sequential:
                w_t = w.clone().requires_grad_(True)
                (g_b,) = _GRAD(_cost(XB, yB, w_t, b_t), (b_t,))
            b = b - lr * factor * g_b
            path.w.append(w.numpy().copy())
            path.b.append(float(b))
            path.batches.append(np.asarray(batch, dtype=np.int64))
    return path


def _variants(case: Case, X, y, w, b):
    """(mistake, final [w..., b]) of the catalogue's wrong runs, in its order."""
    n, size, epochs, lr = len(y), case.batch_size, case.epochs, case.lr
    right = _steps(n, size, _orders(n, epochs, case.seed))
    runs = [
        ("no_shuffle", lambda: _walk(X, y, w, b, lr, _steps(n, size, [np.arange(n)] * epochs))),
        ("reseeded_shuffle", lambda: _walk(X, y, w, b, lr, _steps(n, size, _orders(n, 1, case.seed) * epochs))),
        ("divides_by_n", lambda: _walk(X, y, w, b, lr, right, scale=lambda k: k / n)),
        ("drops_last_batch", None if n % size == 0 else
         lambda: _walk(X, y, w, b, lr, [batch for batch in right if len(batch) == size])),
        ("ignores_batch_size", lambda: _walk(X, y, w, b, lr, [np.arange(n)] * epochs)),
        ("sequential_update", lambda: _walk(X, y, w, b, lr, right, sequential=True)),
        ("gradient_ascent", lambda: _walk(X, y, w, b, -lr, right)),
        ("missing_lr", lambda: _walk(X, y, w, b, 1.0, right)),
        ("extra_epoch", lambda: _walk(X, y, w, b, lr, _steps(n, size, _orders(n, epochs + 1, case.seed)))),
        ("missing_epoch", None if epochs < 1 else
         lambda: _walk(X, y, w, b, lr, _steps(n, size, _orders(n, epochs - 1, case.seed)))),
        ("unchanged", lambda: _walk(X, y, w, b, lr, [])),
    ]
    for mistake, run in runs:
        if run is not None:
            path = run()
            yield mistake, np.append(path.w[-1], path.b[-1])


@functools.lru_cache(maxsize=16)
def _descent(index: int):
    """(case, reference path, rounding bound after each step) of one visible run: the error of a float32
    run grows by each step's rounding and is carried by max |1 - lr lambda| of the batch's Hessian."""
    case = cases("minibatch_sgd")[index]
    X, y, w, b = case.effective()
    path = _walk(X, y, w, b, case.lr, _steps(len(y), case.batch_size, _orders(len(y), case.epochs, case.seed)))
    d, lr = X.shape[1], abs(case.lr)
    error = SAFETY * OPERATIONS_PER_STEP * U * (np.linalg.norm(w) + abs(b))
    bounds = [error]
    with np.errstate(all="ignore"):
        for k, batch in enumerate(path.batches):
            XB, yB, size = X[batch], y[batch], len(batch)
            terms = np.abs(XB) @ np.abs(path.w[k]) + abs(path.b[k]) + np.abs(yB)
            count = size + d + OPERATIONS_PER_TERM
            gradient_error = count * U * 2.0 / size * (np.linalg.norm(np.abs(XB).T @ terms) + np.sum(terms))
            gradient = path.gradients[k]
            step = OPERATIONS_PER_STEP * U * (np.linalg.norm(path.w[k]) + abs(path.b[k]) + lr * gradient) \
                + lr * gradient_error
            rho = float(np.max(np.abs(1.0 - lr * eigenvalues(XB))))
            error = rho * error + SAFETY * (step + count * TINY)
            bounds.append(float(error))
    return case, path, np.asarray(bounds)


@functools.lru_cache(maxsize=16)
def _descent_variants(index: int) -> tuple:
    case = cases("minibatch_sgd")[index]
    with np.errstate(all="ignore"):
        return tuple(_variants(case, *case.effective()))


# --- calling the student's code ---------------------------------------------------------------------

class _Timeout(BaseException):
    """Raised into student code that runs too long; `except Exception` cannot swallow it."""


@contextlib.contextmanager
def _time_limit(seconds: float):
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise _Timeout(f"did not finish within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _autograd_spy(calls: list):
    """Notes calls into autograd while student code runs (the kit's own go through _GRAD)."""
    saved = [(torch.Tensor, "backward", "Tensor.backward"), (torch.autograd, "grad", "torch.autograd.grad"),
             (torch.autograd, "backward", "torch.autograd.backward")]
    originals = [getattr(owner, name) for owner, name, _ in saved]

    def wrap(label, original):
        def spy(*args, **kwargs):
            calls.append(label)
            return original(*args, **kwargs)
        return spy

    for (owner, name, label), original in zip(saved, originals):
        setattr(owner, name, wrap(label, original))
    try:
        yield
    finally:
        for (owner, name, _), original in zip(saved, originals):
            setattr(owner, name, original)


def _names_in(function) -> set:
    """Names in the function's code (and nested code) that only autograd would use."""
    found, stack = set(), [getattr(function, "__code__", None)]
    while stack:
        code = stack.pop()
        if code is not None:
            found.update(name for name in code.co_names if name in AUTOGRAD_NAMES)
            stack.extend(const for const in code.co_consts if hasattr(const, "co_names"))
    return found


def _error_text(error: BaseException) -> str:
    """'TypeError: message (line 4 of grad_w)', at the student's last frame."""
    text = f"{type(error).__name__}: {error}"
    text = text if len(text) < 300 else text[:297] + "..."
    frame, where = error.__traceback__, None
    while frame is not None:
        if os.path.abspath(frame.tb_frame.f_code.co_filename) != os.path.abspath(__file__):
            where = f"line {frame.tb_lineno} of {frame.tb_frame.f_code.co_name}"
        frame = frame.tb_next
    return f"{text} ({where})" if where else text


def _call(function, args, kwargs, calls: list):
    """(value, None) or (None, Outcome) for one guarded call; autograd calls are added to `calls`."""
    try:
        with _autograd_spy(calls), _time_limit(CALL_SECONDS):
            return function(*args, **kwargs), None
    except _Timeout as error:
        return None, Outcome(False, "timeout", str(error))
    except NotImplementedError as error:
        return None, Outcome(False, "not_implemented", _error_text(error))
    except MemoryError as error:
        return None, Outcome(False, "memory", _error_text(error))
    except Exception as error:
        return None, Outcome(False, "error", _error_text(error))
    except (SystemExit, KeyboardInterrupt) as error:
        return None, Outcome(False, "error", f"{type(error).__name__} raised inside the function")


NOT_RUN = Outcome(False, "timeout", "not run, an earlier call timed out")


def _numbers(value):
    """(values as a float64 array or None, shape) of what the student returned; shape None when it is not
    numbers (then it is the wrong type)."""
    if value is None or isinstance(value, bool):
        return None, None
    if isinstance(value, (int, float)):
        return np.array([float(value)]), ()
    try:
        if isinstance(value, torch.Tensor):
            array = value.detach().cpu().double().numpy()
        elif isinstance(value, (np.ndarray, np.generic)):
            array = np.asarray(value, dtype=np.float64)
        else:
            return None, None
    except Exception:
        return None, None
    return array.reshape(-1), tuple(array.shape)


def _within(got, target, allowed) -> bool:
    """Same size, non-finite exactly where target is, and |got - target| <= allowed elsewhere."""
    got, target = np.asarray(got, dtype=float).reshape(-1), np.asarray(target, dtype=float).reshape(-1)
    if got.size != target.size:
        return False
    finite = np.isfinite(target)
    if not np.array_equal(finite, np.isfinite(got)):
        return False
    allowed = np.broadcast_to(np.asarray(allowed, dtype=float), target.shape)
    with np.errstate(all="ignore"):
        return bool(np.all(np.abs(got[finite] - target[finite]) <= allowed[finite]))


def _fmt(values) -> str:
    array = np.asarray(values, dtype=float).reshape(-1)
    if array.size == 1:
        return f"{array[0]:.6g}"
    shown = ", ".join(f"{v:.4g}" for v in array[:4])
    return f"[{shown}{', ...' if array.size > 4 else ''}] (shape ({array.size},))"


def _type_name(value) -> str:
    return type(value).__qualname__


# --- grad_w and grad_b ------------------------------------------------------------------------------

def _gradient_bound(function: str, X, y, w, b) -> np.ndarray:
    """The largest |got - truth| of a right answer computed at float32: each component sums n terms built
    from a dot product of d products (no cancellation assumed)."""
    n, d = X.shape
    count = n + d + OPERATIONS_PER_TERM
    terms = np.abs(X) @ np.abs(w) + abs(b) + np.abs(y)
    sizes = 2.0 * (np.abs(X).T @ terms if function == "grad_w" else np.sum(terms)) / n
    return SAFETY * count * (U * np.asarray(sizes, dtype=float) + TINY)


@functools.lru_cache(maxsize=16)
def _gradient_context(function: str, index: int):
    case = cases(function)[index]
    X, y, w, b = case.effective()
    expected = _autograd(X, y, w, b)[function].reshape(-1)
    bound = np.broadcast_to(_gradient_bound(function, X, y, w, b), expected.shape)
    with np.errstate(all="ignore"):
        candidates = tuple((mistake, np.asarray(wrong, dtype=float).reshape(-1))
                           for mistake, wrong in _gradient_candidates(function, X, y, w, b, case.w_form))
    return case, expected, bound, candidates


def _same(candidates, mistake: str, agrees) -> bool:
    formulas = [wrong for k, wrong in candidates if k == mistake]
    with np.errstate(all="ignore"):
        return not formulas or any(agrees(wrong) for wrong in formulas)


def _error_size(got, expected, bound) -> str:
    got, expected, bound = got.reshape(-1), expected.reshape(-1), np.broadcast_to(bound, expected.shape).reshape(-1)
    with np.errstate(all="ignore"):
        worst = int(np.nanargmax(np.abs(got - expected) / bound)) if got.size else 0
        denominator = max(REL_FLOOR, abs(got[worst]) + abs(expected[worst]))
        relative = abs(got[worst] - expected[worst]) / denominator
    return f"relative error {relative:.1e}; float32 rounding allows {bound[worst] / denominator:.1e} here"


def _judge_gradient(function: str, index: int, value) -> Outcome:
    if value is None:
        return Outcome(False, "returns_none", "returned None")
    got, shape = _numbers(value)
    if shape is None:
        return Outcome(False, "wrong_type", f"it returned a {_type_name(value)}")
    case, expected, bound, candidates = _gradient_context(function, index)
    n, d = case.X.shape
    if got.size == expected.size and _within(got, expected, bound):
        if function == "grad_w" and shape != (d,):
            return Outcome(False, "shape", f"returned shape {shape} with the right numbers; grad_w returns shape "
                                           f"({d},) whatever w's shape (flatten it with .reshape(-1))")
        return Outcome(True, None, _error_size(got, expected, bound),
                       coincides=lambda k: _same(candidates, k, lambda wrong: _within(wrong, expected, bound)))
    room = float(np.max(bound)) * max(1, n)
    explained = []
    with np.errstate(all="ignore"):
        for mistake, wrong in candidates:
            if wrong.size == got.size and mistake not in explained and _within(
                    got, wrong, np.maximum(room, SAFETY * U * (n + d + OPERATIONS_PER_TERM) * np.abs(wrong))):
                explained.append(mistake)
    if explained:
        return Outcome(False, explained[0], f"expected {_fmt(expected)}, got {_fmt(got)}", tuple(explained))
    if not np.all(np.isfinite(got)):
        return Outcome(False, "not_finite", f"returned {_fmt(got)}")
    if got.size != expected.size:
        want = f"shape ({d},)" if function == "grad_w" else "a single number"
        return Outcome(False, "shape", f"returned shape {shape}, expected {want}")
    return Outcome(False, "unknown", f"expected {_fmt(expected)}, got {_fmt(got)} "
                                     f"({_error_size(got, expected, bound)})")


def _run_gradient(function_name: str, function, used: set) -> list:
    outcomes = []
    for index, case in enumerate(cases(function_name)):
        calls: list = []
        value, failed = _call(function, case.arguments(), {}, calls)
        used.update(calls)
        if isinstance(value, torch.Tensor) and value.requires_grad:
            used.add("requires_grad")
        outcomes.append(failed or _judge_gradient(function_name, index, value))
        if failed is not None and failed.kind == "timeout":
            break
    return outcomes


# --- minibatch_sgd ------------------------------------------------------------------------------------

class _StandIn:
    """Stands in for the student's grad_w or grad_b inside their minibatch_sgd: autograd's gradient of the
    batch it is given, so a wrong grad_w is not charged twice. It notes each call: which rows of X the
    batch holds, and the w and b it was called at."""

    def __init__(self, which: str, X: torch.Tensor, log: list, counts: dict):
        self.which, self.log, self.counts = which, log, counts
        self.d = X.shape[1]
        self.index = {row.tobytes(): i for i, row in enumerate(np.ascontiguousarray(
            X.detach().double().numpy().astype(np.float32)))}

    def __call__(self, X, y, w, b):
        self.counts[self.which] += 1
        X = X if isinstance(X, torch.Tensor) else torch.as_tensor(X)
        w = w if isinstance(w, torch.Tensor) else torch.as_tensor(w)
        y = y if isinstance(y, torch.Tensor) else torch.as_tensor(y)
        dtype = X.dtype if X.dtype.is_floating_point else torch.float64
        array = X.detach().double().numpy().reshape(-1, self.d) if X.numel() % self.d == 0 else None
        rows = [-1] if array is None else [self.index.get(row.tobytes(), -1) for row in
                                          np.ascontiguousarray(array.astype(np.float32))]
        try:
            b_value = float(b) if isinstance(b, (int, float)) else float(torch.as_tensor(b).detach().reshape(()))
        except (TypeError, ValueError, RuntimeError):
            b_value = float("nan")
        if len(self.log) < CALL_LIMIT:
            values = w.detach().double().reshape(-1).tolist() if w.numel() <= 64 else []
            self.log.append({"f": self.which, "rows": rows, "w": values, "w_shape": list(w.shape), "b": b_value})
        if array is None or any(row < 0 for row in rows):
            raise ValueError(f"{self.which} was given rows that are not rows of minibatch_sgd's X")
        if w.numel() != self.d:
            raise ValueError(f"{self.which} was given w of shape {tuple(w.shape)}; it expects {self.d} values")
        XB = torch.from_numpy(array)
        yB = y.detach().double().reshape(-1)
        w_t = w.detach().double().reshape(-1).clone().requires_grad_(True)
        b_t = torch.tensor(b_value, dtype=torch.float64, requires_grad=True)
        g_w, g_b = _GRAD(_cost(XB, yB, w_t, b_t), (w_t, b_t))
        return (g_w if self.which == "grad_w" else g_b).detach().to(dtype)


def _returned(value, d: int, w_form: str):
    """(w as (d,), b) from what minibatch_sgd returned, or (None, Outcome) saying what came back instead."""
    if not isinstance(value, (tuple, list)):
        if value is None:
            return None, Outcome(False, "returns_none", "returned None")
        return None, Outcome(False, "wrong_type", f"returned a {_type_name(value)}; return (w, b)")
    if len(value) != 2:
        return None, Outcome(False, "pair_length", f"returned {len(value)} values; return (w, b)")
    (w, shape), (b, b_shape) = _numbers(value[0]), _numbers(value[1])
    if w is not None and w.size == d * d and d > 1:
        return None, Outcome(False, "broadcast_square", f"returned w of shape {shape}", ("broadcast_square",))
    allowed = {(d,), (d, 1)} if w_form == "(d, 1)" else {(d,)}
    if w is None or b is None or shape not in allowed or b.size != 1:
        return None, Outcome(False, "pair_length" if w is not None and b is not None else "wrong_type",
                             f"returned w of shape {shape or ()} and b of shape {b_shape or ()}; return w of shape "
                             f"({d},){' or (d, 1)' if w_form == '(d, 1)' else ''} and b one number")
    return (w, float(b[0])), None


def _close(got, target, allowed: float) -> bool:
    if not np.all(np.isfinite(target)) or np.max(np.abs(target)) > DIVERGED:
        return bool(np.any(~np.isfinite(got)) or np.max(np.abs(got)) > DIVERGED)
    if not np.all(np.isfinite(got)):
        return False
    return bool(np.max(np.abs(got - target)) <= allowed)


def _diagnose(case: Case, path: Path, bounds, calls: list):
    """Where the stand-ins' notes leave the reference: ("order" | "batch_size" | "update", detail)."""
    if not calls:
        return None
    name = "grad_w" if any(c["f"] == "grad_w" for c in calls) else "grad_b"
    steps = [c for c in calls if c["f"] == name]
    per_epoch = len(path.batches) // max(1, case.epochs)

    def where(k: int) -> str:
        return f"epoch {k // per_epoch + 1}, batch {k % per_epoch + 1}" if per_epoch else f"step {k + 1}"

    def shown(rows) -> str:
        return ", ".join(str(i) for i in rows[:8]) + (", ..." if len(rows) > 8 else "")

    for k, call in enumerate(steps[:len(path.batches)]):
        rows, expected = list(call["rows"]), [int(i) for i in path.batches[k]]
        if sorted(rows) != sorted(expected):
            if len(rows) != len(expected):
                return "batch_size", (f"{where(k)}: {name} got a batch of {len(rows)} instances, expected "
                                      f"{len(expected)} (rows {shown(expected)})")
            return "order", f"{where(k)}: {name} got rows {shown(rows)}, expected rows {shown(expected)}"
        point = np.append(np.asarray(call["w"], dtype=float), call["b"])
        reference = np.append(path.w[k], path.b[k])
        if point.size == reference.size and not _close(point, reference, bounds[k]):
            return "update", f"{where(k)}: {name} was called at (w, b) = {_fmt(point)}, expected {_fmt(reference)}"
    if len(steps) < min(len(path.batches), CALL_LIMIT):
        return "batch_size", f"{name} was called {len(steps)} times, expected {len(path.batches)} (one per batch)"
    return None


def _judge_descent(index: int, value, calls: list) -> Outcome:
    case, path, bounds = _descent(index)
    d = case.X.shape[1]
    squared = [c for c in calls if int(np.prod(c["w_shape"] or [1])) == d * d and d > 1]
    if squared:
        return Outcome(False, "broadcast_square", f"{squared[0]['f']} was called with w of shape "
                                                  f"{tuple(squared[0]['w_shape'])}", ("broadcast_square",))
    returned, failed = _returned(value, d, case.w_form)
    if failed is not None:
        return failed
    got = np.append(returned[0], returned[1])
    expected, bound = np.append(path.w[-1], path.b[-1]), float(bounds[-1])
    if _close(got, expected, bound):
        return Outcome(True, None, f"(w, b) = {_fmt(got)}", coincides=lambda k: _same(
            _descent_variants(index), k, lambda wrong: wrong.size == expected.size and _close(wrong, expected, bound)))
    detail = f"expected (w, b) = {_fmt(expected)}, got {_fmt(got)}"
    explained = []
    with np.errstate(all="ignore"):
        for mistake, wrong in _descent_variants(index):
            if wrong.size != got.size or mistake in explained:
                continue
            allowed = max(bound, DESCENT_NAME_REL * (1.0 + float(np.nan_to_num(np.max(np.abs(wrong)), posinf=0))))
            if _close(got, wrong, allowed):
                explained.append(mistake)
    if explained:
        return Outcome(False, explained[0], detail, tuple(explained))
    diagnosis = _diagnose(case, path, bounds, calls)
    if diagnosis is not None:
        return Outcome(False, diagnosis[0], f"{detail}; {diagnosis[1]}")
    if not np.all(np.isfinite(got)):
        return Outcome(False, "not_finite", detail)
    return Outcome(False, "unknown", f"{detail} (float32 rounding over {len(path.batches)} steps allows "
                                     f"{bound:.1e} here)")


def _run_descent(function, namespace: dict, used: set):
    """The outcomes of the visible runs, with the kit's stand-ins for grad_w and grad_b; and the note when
    minibatch_sgd never called one of them."""
    outcomes, counted = [], []
    saved = {name: namespace[name] for name in STAND_IN_NAMES if name in namespace}
    try:
        for index, case in enumerate(cases("minibatch_sgd")):
            X, y, w, b = case.arguments()
            log: list = []
            counts = {name: 0 for name in STAND_IN_NAMES}
            namespace.update({name: _StandIn(name, X, log, counts) for name in STAND_IN_NAMES})
            calls: list = []
            value, failed = _call(function, (X, y, w, b), {"lr": float(case.lr), "epochs": int(case.epochs),
                                                           "batch_size": int(case.batch_size),
                                                           "seed": int(case.seed)}, calls)
            used.update(calls)
            squared = [c for c in log if int(np.prod(c["w_shape"] or [1])) == case.X.shape[1] ** 2 > 1]
            if failed is not None and not squared:
                outcomes.append(failed)
            else:
                outcomes.append(_judge_descent(index, value, log))
            if failed is None and case.epochs > 0 and isinstance(value, (tuple, list)) and len(value) == 2:
                counted.append(counts)
            if failed is not None and failed.kind == "timeout":
                break
    finally:
        for name in STAND_IN_NAMES:
            if name in saved:
                namespace[name] = saved[name]
            else:
                namespace.pop(name, None)
    never = [name for name in STAND_IN_NAMES if counted and all(c[name] == 0 for c in counted)]
    return outcomes, OWN_GRADIENT_SENTENCE.format(names=" and ".join(never)) if never else ""


# --- max_stable_lr ------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def _rate_context(index: int):
    """(case, 2 / lambda_max, its float32 rounding bound, the mistakes' numbers) of one visible case."""
    case = cases("max_stable_lr")[index]
    X = case.effective()
    n, d = X.shape
    H = _hessian(X)
    values = np.linalg.eigvalsh(H)
    largest = float(values[-1])
    expected = 2.0 / largest
    # The Hessian's entries carry u (n + OPERATIONS_PER_TERM) |A|^T |A| (A = [X, 1]), whose norm is at most
    # ||A||_F^2; a backward-stable eigensolver adds u (d + 1) OPERATIONS_PER_TERM ||H||.
    frobenius = float(np.sum(X * X)) + n
    error = 2.0 / n * U * (n + OPERATIONS_PER_TERM) * frobenius + U * (d + 1) * OPERATIONS_PER_TERM * largest
    bound = SAFETY * expected * error / largest
    with np.errstate(all="ignore"):
        candidates = (
            ("hessian_without_2_over_n", 2.0 / n * expected),
            ("hessian_missing_two", 2.0 * expected),
            ("hessian_without_mean", expected / n),
            ("one_over_lambda", expected / 2.0),
            ("hessian_without_bias", 2.0 / float(np.linalg.eigvalsh(H[:d, :d])[-1])),
            ("lambda_min", 2.0 / float(values[0])),
            ("returns_lambda_max", largest),
            ("trace_instead", 2.0 / float(np.trace(H))),
        )
    return case, expected, bound, candidates


def _judge_rate(index: int, value) -> Outcome:
    if value is None:
        return Outcome(False, "returns_none", "returned None")
    got, shape = _numbers(value)
    if got is None or got.size != 1:
        return Outcome(False, "shape" if shape is not None else "wrong_type",
                       f"returned {'shape ' + str(shape) if shape is not None else 'no number'}; expected one number")
    case, expected, bound, candidates = _rate_context(index)
    got = float(got[0])
    if np.isfinite(got) and abs(got - expected) <= bound:
        return Outcome(True, None, f"{got:.7g} (expected {expected:.7g})", coincides=lambda k: _same(
            candidates, k, lambda wrong: abs(wrong - expected) <= bound))
    detail = f"expected {expected:.7g}, got {got:.7g}"
    relative = bound / expected
    explained = tuple(mistake for mistake, wrong in candidates
                      if np.isfinite(wrong) and abs(got - wrong) <= 2 * relative * abs(wrong))
    if explained:
        return Outcome(False, explained[0], detail, explained)
    if not np.isfinite(got):
        return Outcome(False, "not_finite", detail)
    return Outcome(False, "unknown", f"{detail} (relative error {abs(got - expected) / expected:.1e}; "
                                     f"float32 rounding allows {relative:.1e} here)")


def _run_rate(function) -> list:
    outcomes = []
    for index, case in enumerate(cases("max_stable_lr")):
        value, failed = _call(function, (torch.tensor(case.X, dtype=getattr(torch, case.dtype)),), {}, [])
        outcomes.append(failed or _judge_rate(index, value))
        if failed is not None and failed.kind == "timeout":
            break
    return outcomes


# --- one check -----------------------------------------------------------------------------------------

def _named(outcomes: list) -> str | None:
    """The mistake that explains the failing cases best: the fewest passing cases against it, then the
    most failing cases it explains, then the catalogue's order."""
    counts: dict = {}
    for outcome in outcomes:
        if not outcome.passed:
            for mistake in outcome.explained:
                counts[mistake] = counts.get(mistake, 0) + 1
    if not counts:
        return None
    passing = [o for o in outcomes if o.passed and o.coincides is not None]
    against = {k: sum(1 for o in passing if not o.coincides(k)) for k in counts}
    order = list(counts)
    return max(order, key=lambda k: (-against[k], counts[k], -order.index(k)))


def _summary(cell_id: str, function: str, points: float, labels: list, outcomes: list, note: str = "") -> Result:
    """All cases pass: full points. A named mistake explains a failing case: nothing, and the message names
    it. Otherwise the share of cases that pass, and the commonest failure's words."""
    outcomes = outcomes + [NOT_RUN] * (len(labels) - len(outcomes))
    total, passed = len(outcomes), sum(1 for o in outcomes if o.passed)
    tail = f" {note}" if note else ""
    if passed == total:
        return Result(cell_id, float(points), points, f"{function} {WHAT[function]} on all {total} cases.{tail}")
    named = _named(outcomes)
    if named is not None:
        label, outcome = next((lab, o) for lab, o in zip(labels, outcomes) if not o.passed and named in o.explained)
        return Result(cell_id, 0.0, points, f"{passed}/{total} cases pass. {_sentence(function, named)} "
                                            f"({outcome.detail}, on {label}.){tail}", named)
    failures = [(label, o) for label, o in zip(labels, outcomes) if not o.passed]
    kinds = [o.kind for _, o in failures]
    kind = max(set(kinds), key=lambda k: (kinds.count(k), -kinds.index(k)))
    label, outcome = next(f for f in failures if f[1].kind == kind)
    earned = round(points * passed / total, 2) if total else 0.0
    text = _sentence(function, kind)
    message = text if kind in ("not_implemented", "missing") else \
        f"{passed}/{total} cases pass. {text}: {outcome.detail}, on {label}."
    return Result(cell_id, earned, points, message + tail, kind)


def run_check(cell_id: str, namespace: dict) -> Result:
    """Run one visible check on the functions defined in `namespace`."""
    if cell_id not in VISIBLE:
        raise KeyError(f"{cell_id!r} is not a check in the student kit; it runs when your work is graded"
                       if cell_id.startswith(FUNCTIONS) else f"unknown check {cell_id!r}")
    function_name, points, _ = VISIBLE[cell_id]
    function = namespace.get(function_name)
    if not callable(function):
        found = "is not defined" if function is None else f"is a {type(function).__name__}, not a function"
        return Result(cell_id, 0.0, points,
                      f"{function_name} {found}: {KIND_SENTENCES['missing'].split(': ', 1)[1]}", "missing")
    labels = [case.label for case in cases(function_name)]
    used = _names_in(function) if function_name != "max_stable_lr" else set()
    note = ""
    if function_name == "minibatch_sgd":
        outcomes, note = _run_descent(function, namespace, used)
        if used:
            return Result(cell_id, 0.0, points, f"{_sentence(function_name, 'autograd')} "
                                                f"(found: {', '.join(sorted(used))}).", "autograd")
        if _named(outcomes) == "unchanged":
            note = ""
    elif function_name == "max_stable_lr":
        outcomes = _run_rate(function)
    else:
        outcomes = _run_gradient(function_name, function, used)
        if used:
            return Result(cell_id, 0.0, points, f"{_sentence(function_name, 'autograd')} (found: "
                                                f"{', '.join(sorted(used))}). Write the formula from the "
                                                "derivation instead.", "autograd")
    return _summary(cell_id, function_name, points, labels, outcomes, note)


WIDTH = 100
INDENT = "       "


def format_result(result: Result) -> str:
    """'[PASS|PART|FAIL] cell_id: points/max  message', wrapped at WIDTH (as the grader prints it)."""
    mark = "PASS" if result.passed else ("PART" if result.points > 0 else "FAIL")
    text = f"[{mark}] {result.cell_id}: {result.points:g}/{result.max_points:g}  {result.message}"
    return textwrap.fill(text, WIDTH, subsequent_indent=INDENT, break_on_hyphens=False, break_long_words=False)


def check(cell_id: str, namespace: dict | None = None) -> float:
    """Run one visible check on the caller's functions, print its feedback, return its points."""
    if namespace is None:
        namespace = inspect.currentframe().f_back.f_globals
    result = run_check(cell_id, namespace)
    print(format_result(result))
    return result.points


# --- `msegrad check NOTEBOOK` ----------------------------------------------------------------------------

def _code_cells(path: str) -> list:
    """The notebook's code cells except the test cells, magics and shell lines turned into comments."""
    with open(path, encoding="utf-8") as handle:
        notebook = json.load(handle)
    cells = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code" or cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        cells.append("\n".join("pass  # " + line.strip() if line.lstrip().startswith(("%", "!")) else line
                               for line in source.splitlines()))
    return cells


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(prog="msegrad", description="the visible checks of the vector MSE-gradient "
                                                                 "exercise")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("check", help="run your notebook's code and the visible checks")
    command.add_argument("notebook", help="your mse_gradient_vector.ipynb")
    args = parser.parse_args(argv)
    try:
        cells = _code_cells(args.notebook)
    except (OSError, ValueError) as error:
        print(f"msegrad check: {args.notebook} cannot be read as a notebook ({error})", file=sys.stderr)
        return 2
    namespace: dict = {"__name__": "__main__"}
    for index, source in enumerate(cells, 1):
        try:
            with _time_limit(60):
                exec(compile(source, f"{args.notebook} (code cell {index})", "exec"), namespace)
        except BaseException as error:  # the student's code may raise anything, SystemExit included
            print(f"note: code cell {index} raised {type(error).__name__}: {error}")
    earned = possible = 0.0
    for cell_id in VISIBLE:
        result = run_check(cell_id, namespace)
        earned += result.points
        possible += result.max_points
        print(format_result(result))
    print(f"{earned:g}/{possible:g} points on the visible checks; hidden checks ({HIDDEN_POINTS:g} more points) "
          "run when your work is graded.")
    return 0 if earned >= possible else 1


if __name__ == "__main__":
    sys.exit(main())
