"""The catalogue of known-wrong answers, each with the sentence that names it.

A formula mistake is a wrong formula run on the same inputs as the student;
when the student's numbers match it, its sentence is the feedback. Each
sentence points back to the step of the derivation that went wrong (the
lessons' notation: u_i = y_hat_i - y_i, C = 1/n sum u_i^2).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np

from autograder import reference


@dataclass(frozen=True)
class Mistake:
    id: str
    functions: tuple[str, ...]
    sentence: str
    # For gradients: formula(x, y, m, b, y_hat) -> array or float, all float64.
    formula: Callable | None = None


def _e(y, y_hat):
    return y_hat - y


GRADIENT_MISTAKES = (
    Mistake("missing_two", ("dC_dyhat", "dC_dm", "dC_db"),
            "is half the expected value: the factor 2 from the power rule is missing "
            "(d/du u^2 = 2u, so dC/du_i = 2 u_i / n).",
            lambda x, y, m, b, yh, f: _scaled(f, x, y, yh, 0.5)),
    Mistake("missing_mean", ("dC_dyhat", "dC_dm", "dC_db"),
            "is n times too large: the 1/n of the mean is missing (a sum instead of a mean; "
            "C averages the squared residuals over all n instances).",
            lambda x, y, m, b, yh, f: _scaled(f, x, y, yh, len(y))),
    Mistake("double_mean", ("dC_dyhat", "dC_dm", "dC_db"),
            "is n times too small: 1/n is applied twice (a mean and a division by n); "
            "C = 1/n sum u_i^2 carries one 1/n.",
            lambda x, y, m, b, yh, f: _scaled(f, x, y, yh, 1.0 / len(y))),
    Mistake("sign_flipped", ("dC_dyhat", "dC_dm", "dC_db"),
            "has the wrong sign: the residual is u_i = y_hat_i - y_i (prediction minus target), "
            "and du_i/dy_hat_i = +1.",
            lambda x, y, m, b, yh, f: _scaled(f, x, y, yh, -1.0)),
    Mistake("no_two_no_mean", ("dC_dyhat", "dC_dm", "dC_db"),
            "is missing both the 2 from the power rule and the 1/n of the mean.",
            lambda x, y, m, b, yh, f: _scaled(f, x, y, yh, len(y) / 2.0)),
    Mistake("squared_residual", ("dC_dyhat",),
            "squares the residual: the power rule brings the exponent down, d/du u^2 = 2u, not u^2.",
            lambda x, y, m, b, yh, f: 2.0 * _e(y, yh) ** 2 / len(y)),
    Mistake("returns_cost", ("dC_dyhat", "dC_dm", "dC_db"),
            "returns the cost C = 1/n sum (y_hat_i - y_i)^2 itself, not its derivative.",
            lambda x, y, m, b, yh, f: np.mean(_e(y, yh) ** 2)),
    Mistake("summed_over_instances", ("dC_dyhat",),
            "returns one number: dC/dy_hat has one entry per instance i, 2/n (y_hat_i - y_i); "
            "do not sum over i (the sum comes later, in dC/dm and dC/db).",
            lambda x, y, m, b, yh, f: 2.0 * np.sum(_e(y, yh)) / len(y)),
    Mistake("missing_x", ("dC_dm",),
            "is missing the factor x_i: by the chain rule each term is multiplied by dy_hat_i/dm = x_i "
            "(what you computed is dC/db).",
            lambda x, y, m, b, yh, f: 2.0 * np.sum(_e(y, yh)) / len(y)),
    Mistake("has_x", ("dC_db",),
            "multiplies by x_i: dy_hat_i/db = 1, so dC/db = 2/n sum (y_hat_i - y_i) has no x "
            "(what you computed is dC/dm).",
            lambda x, y, m, b, yh, f: 2.0 * np.sum(_e(y, yh) * x) / len(y)),
    Mistake("per_instance", ("dC_dm", "dC_db"),
            "returns one value per instance: the chain rule sums the per-instance terms over i, "
            "so dC/dm and dC/db are single numbers (2/n sum ...).",
            lambda x, y, m, b, yh, f: 2.0 * _e(y, yh) * (x if f == "dC_dm" else 1.0) / len(y)),
    Mistake("broadcast_product_of_sums", ("dC_dm",),
            "multiplies the sums instead of summing the products (sum(u) * sum(x) rather than sum(u_i x_i)): "
            "usually a shape (n, 1) tensor meeting a shape (n,) one and broadcasting to n x n; "
            "keep every vector of shape (n,).",
            lambda x, y, m, b, yh, f: 2.0 * np.sum(_e(y, yh)) * np.sum(x) / len(y)),
    *(Mistake("broadcast_n_by_n", ("dC_dm",),
              "mixes every instance with every other: a shape (n, 1) tensor met a shape (n,) one and "
              "broadcast to an n x n matrix (y_hat_i - y_j), so the sum runs over all pairs i, j; "
              "keep every vector of shape (n,) so each residual pairs with its own x_i.",
              formula)
      for formula in (
          lambda x, y, m, b, yh, f: 2.0 * np.sum(_pairs(x, y, yh, f, 1)) / len(y),
          lambda x, y, m, b, yh, f: 2.0 * np.sum(_pairs(x, y, yh, f, 0)) / len(y),
          lambda x, y, m, b, yh, f: 2.0 * np.sum(_pairs(x, y, yh, f, 1)) / len(y) ** 2,
          lambda x, y, m, b, yh, f: 2.0 * np.sum(_pairs(x, y, yh, f, 0)) / len(y) ** 2,
      )),
)


def _pairs(x, y, y_hat, function, x_axis):
    """(y_hat_i - y_j) times x along axis x_axis (or 1 for dC/db): the n x n broadcast."""
    residuals = y_hat[:, None] - y[None, :]
    if function != "dC_dm":
        return residuals
    return residuals * (x[None, :] if x_axis == 1 else x[:, None])

# Mistakes recognised from what was returned or raised rather than by formula.
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


def gradient_mistakes(function: str) -> tuple[Mistake, ...]:
    return tuple(m for m in GRADIENT_MISTAKES if function in m.functions)


def correct_gradient(function: str, x, y, m, b, y_hat):
    """The hand-derived formula at float64 (what the mistakes are variations of)."""
    e = y_hat - y
    n = len(y)
    if function == "dC_dyhat":
        return 2.0 * e / n
    if function == "dC_dm":
        return 2.0 * np.sum(e * x) / n
    return 2.0 * np.sum(e) / n


def _scaled(function, x, y, y_hat, factor):
    return factor * correct_gradient(function, x, y, None, None, y_hat)


# --- gradient descent -------------------------------------------------------

@dataclass(frozen=True)
class DescentMistake:
    id: str
    sentence: str
    # variant(case, x, y, m, b) -> (m, b) or None when the variant does not apply.
    variant: Callable


def descend(x, y, m, b, lr, epochs, sequential: bool = False) -> tuple[float, float]:
    """reference.descent's end point (or the sequential-update variant's), memoised:
    every student is judged on the same cases, so each run is computed once per grader."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return _descend_cached(x.tobytes(), y.tobytes(), float(m), float(b), float(lr), int(epochs), sequential)


@functools.lru_cache(maxsize=4096)
def _descend_cached(x_bytes, y_bytes, m, b, lr, epochs, sequential):
    x, y = np.frombuffer(x_bytes).copy(), np.frombuffer(y_bytes).copy()
    if sequential:
        return _sequential(x, y, m, b, lr, epochs)
    return reference.descent(x, y, m, b, lr=lr, epochs=epochs).final()


_run = descend


def _sequential(x, y, m, b, lr, epochs):
    """m updated first, then dC/db taken at the new m."""
    import torch
    xt, yt = torch.tensor(x), torch.tensor(y)
    mt, bt = torch.tensor(m, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
    with np.errstate(all="ignore"):
        for _ in range(epochs):
            mt = mt - lr * reference.dC_dm(xt, yt, mt, bt)
            bt = bt - lr * reference.dC_db(xt, yt, mt, bt)
    return float(mt), float(bt)


@functools.lru_cache(maxsize=256)
def _least_squares(x_bytes, y_bytes):
    return reference.least_squares(np.frombuffer(x_bytes).copy(), np.frombuffer(y_bytes).copy())


_LECTURE_END = None


def _lecture_end(*_):
    global _LECTURE_END
    if _LECTURE_END is None:
        _LECTURE_END = reference.lecture_descent().final()
    return _LECTURE_END


DESCENT_MISTAKES = (
    DescentMistake("off_by_one_more",
                   "takes one step too many: `epochs` steps means the loop body runs exactly epochs times "
                   "(range(epochs)).",
                   lambda c, x, y, m, b: _run(x, y, m, b, c.lr, c.epochs + 1)),
    DescentMistake("off_by_one_fewer",
                   "takes one step too few: `epochs` steps means the loop body runs exactly epochs times "
                   "(range(epochs), not range(1, epochs)).",
                   lambda c, x, y, m, b: _run(x, y, m, b, c.lr, c.epochs - 1) if c.epochs > 0 else None),
    DescentMistake("sequential_update",
                   "updates m before computing dC/db, so b's gradient is taken at the new m: compute both "
                   "gradients at the same (m, b), then update both.",
                   lambda c, x, y, m, b: descend(x, y, m, b, c.lr, c.epochs, sequential=True)
                   if c.epochs > 0 else None),
    DescentMistake("gradient_ascent",
                   "climbs the cost: descent subtracts the gradient, m <- m - lr * dC/dm (the gradient points uphill).",
                   lambda c, x, y, m, b: _run(x, y, m, b, -c.lr, c.epochs) if c.epochs > 0 else None),
    DescentMistake("missing_lr",
                   "steps by the whole gradient: the update is m <- m - lr * dC/dm; without lr the steps overshoot.",
                   lambda c, x, y, m, b: _run(x, y, m, b, 1.0, c.epochs) if c.epochs > 0 else None),
    DescentMistake("closed_form",
                   "returns the least-squares optimum (the closed form) instead of descending: sgd must take "
                   "`epochs` gradient steps from the given m and b.",
                   lambda c, x, y, m, b: _least_squares(x.tobytes(), y.tobytes())),
    DescentMistake("hard_coded",
                   "returns the lecture's final parameters whatever the data: compute them by descending.",
                   lambda c, x, y, m, b: _lecture_end()),
    DescentMistake("ignores_lr",
                   f"ignores the lr argument and always uses {reference.LR}: use the lr passed in.",
                   lambda c, x, y, m, b: _run(x, y, m, b, reference.LR, c.epochs)
                   if c.lr != reference.LR and c.epochs > 0 else None),
    DescentMistake("ignores_epochs",
                   "ignores the epochs argument (always the same number of steps): loop `epochs` times.",
                   lambda c, x, y, m, b: _run(x, y, m, b, c.lr, reference.LECTURE_EPOCHS)
                   if c.epochs not in (reference.LECTURE_EPOCHS,) else None),
    DescentMistake("unchanged",
                   "returns the starting m and b unchanged: update them inside the loop and return the updated values.",
                   lambda c, x, y, m, b: (m, b) if c.epochs > 0 else None),
    DescentMistake("swapped",
                   "returns (b, m): return the slope first, (m, b).",
                   lambda c, x, y, m, b: tuple(reversed(_run(x, y, m, b, c.lr, c.epochs)))),
)
