"""Assignment 2's catalogue of named mistakes, each with the sentence that points back to the derivation.

Trusted side only. A gradient or rate mistake is a wrong formula run on the
same (rounded) inputs as the student; a descent mistake is a wrong variant
of the reference's mini-batch run. When the student's numbers match one, the
feedback is its sentence, and the cell earns nothing (a named mistake earns
0 for its cell). The notation is the notebook's: r = X w + b 1 - y, the
residual, and H = 2/n [[X^T X, X^T 1], [1^T X, n]].
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from autograder import config
from autograder.mistakes import KIND_SENTENCES as GENERIC_KIND_SENTENCES
from autograder.assignments.mse_gradient_vector import reference, spec


def residual(X, y, w, b) -> np.ndarray:
    """r = X w + b 1 - y, shape (n,)."""
    return X @ w + b - y


def correct_gradient(function: str, X, y, w, b) -> np.ndarray:
    """The hand-derived formula at float64 (what the mistakes are variations of): (d,) or one number."""
    r = residual(X, y, w, b)
    n = len(y)
    return 2.0 * X.T @ r / n if function == "grad_w" else np.asarray(2.0 * np.sum(r) / n)


@dataclass(frozen=True)
class Mistake:
    """A wrong gradient formula: formula(X, y, w, b, w_form, function) -> numbers, or None where it
    cannot happen (X r needs n == d; the (n, n) broadcast needs w of shape (d, 1))."""

    id: str
    functions: tuple[str, ...]
    sentence: str
    formula: Callable


def _scaled(factor: Callable) -> Callable:
    return lambda X, y, w, b, form, f: factor(len(y)) * correct_gradient(f, X, y, w, b)


def _x_not_transposed(X, y, w, b, form, f):
    n, d = X.shape
    return 2.0 * X @ residual(X, y, w, b) / n if n == d and d > 1 else None


def _broadcast_column(X, y, w, b, form, f):
    """w of shape (d, 1): X w is (n, 1), minus y (n,) gives R_ik = y_hat_i - y_k, an n x n matrix."""
    if form != "(d, 1)" or len(y) < 2:
        return None
    R = (X @ w + b)[:, None] - y[None, :]
    return 2.0 * X.T @ R / len(y) if f == "grad_w" else np.asarray(2.0 * np.sum(R) / len(y))


BOTH = ("grad_w", "grad_b")

GRADIENT_MISTAKES = (
    Mistake("x_not_transposed", ("grad_w",),
            "multiplies the residual by X instead of X^T: component j sums over the instances, "
            "dC/dw_j = 2/n sum_i (y_hat_i - y_i) X_ij, which is (X^T r)_j, the transpose of X times r "
            "(X r only exists when n = d, and then it is the wrong sum).",
            _x_not_transposed),
    Mistake("missing_two", BOTH,
            "is half the expected value: the factor 2 from the power rule is missing "
            "(d/du u^2 = 2u, so dC/dr_i = 2 r_i / n).",
            _scaled(lambda n: 0.5)),
    Mistake("missing_mean", BOTH,
            "is n times too large: the 1/n of the mean is missing (C = 1/n sum_i r_i^2 averages over the n instances).",
            _scaled(lambda n: float(n))),
    Mistake("sign_flipped", BOTH,
            "has the wrong sign: the residual is r = X w + b - y (prediction minus target), and dr_i/dy_hat_i = +1.",
            _scaled(lambda n: -1.0)),
    Mistake("bias_ignored", BOTH,
            "leaves b out of the prediction: y_hat = X w + b 1, so the residual is X w + b - y.",
            lambda X, y, w, b, form, f: correct_gradient(f, X, y, w, 0.0)),
    Mistake("mean_wrong_axis", ("grad_w",),
            "averages over the wrong axis: dC/dw_j sums over the instances i (axis 0 of X, the rows), "
            "giving one number per feature j, shape (d,); summing over the features (axis 1) gives one "
            "number per instance instead.",
            lambda X, y, w, b, form, f: 2.0 * np.mean(X * residual(X, y, w, b)[:, None], axis=1)),
    Mistake("mean_wrong_axis", ("grad_w",), "",
            lambda X, y, w, b, form, f: 2.0 * np.sum(X * residual(X, y, w, b)[:, None], axis=1) / len(y)),
    Mistake("broadcast_column", BOTH,
            "lets w of shape (d, 1) make X w a column of shape (n, 1); minus y of shape (n,) it broadcast to an "
            "n x n matrix (y_hat_i - y_k), so every prediction met every target. Flatten w (w.reshape(-1)) "
            "so that the residual r = X w + b - y has shape (n,).",
            _broadcast_column),
    Mistake("returns_cost", BOTH,
            "returns the cost C = 1/n sum_i r_i^2 itself, not its derivative.",
            lambda X, y, w, b, form, f: np.asarray(np.mean(residual(X, y, w, b) ** 2))),
    Mistake("per_instance", BOTH,
            "returns one value per instance: the chain rule sums the per-instance terms over i "
            "(dC/dw = 2/n X^T r has shape (d,); dC/db = 2/n sum_i r_i is one number).",
            lambda X, y, w, b, form, f: 2.0 * (X if f == "grad_w" else 1.0)
            * (residual(X, y, w, b)[:, None] if f == "grad_w" else residual(X, y, w, b)) / len(y)),
    Mistake("missing_x", ("grad_w",),
            "is missing the factor X_ij: by the chain rule dy_hat_i/dw_j = X_ij (what you computed is dC/db).",
            lambda X, y, w, b, form, f: np.asarray(2.0 * np.sum(residual(X, y, w, b)) / len(y))),
    Mistake("returns_grad_w", ("grad_b",),
            "multiplies by X: dy_hat_i/db = 1, so dC/db = 2/n sum_i r_i has no X (what you computed is dC/dw).",
            lambda X, y, w, b, form, f: correct_gradient("grad_w", X, y, w, b)),
)


def gradient_mistakes(function: str) -> tuple[Mistake, ...]:
    return tuple(m for m in GRADIENT_MISTAKES if function in m.functions)


# --- minibatch_sgd ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DescentMistake:
    """A wrong mini-batch run: variant(case, X, y, w, b) -> its MinibatchPath, or None where it cannot
    be told apart by construction (dropping the last batch when batch_size divides n)."""

    id: str
    sentence: str
    variant: Callable


def _steps(n: int, case, orders=None, batch_size=None, epochs=None):
    orders = orders if orders is not None else reference.epoch_orders(n, case.epochs if epochs is None else epochs,
                                                                         case.seed)
    size = case.batch_size if batch_size is None else batch_size
    return [batch for order in orders for batch in reference.batches(np.asarray(order), size)]


def _walk(case, X, y, w, b, steps, lr=None, **options):
    return reference.walk_batches(X, y, w, b, case.lr if lr is None else lr, steps, **options)


def _drops_last(case, X, y, w, b):
    n = len(y)
    if n % case.batch_size == 0:
        return None
    return _walk(case, X, y, w, b, [s for s in _steps(n, case) if len(s) == case.batch_size])


def _one_epoch_off(delta: int):
    def variant(case, X, y, w, b):
        epochs = case.epochs + delta
        return None if epochs < 0 else _walk(case, X, y, w, b, _steps(len(y), case, epochs=epochs))
    return variant


DESCENT_MISTAKES = (
    DescentMistake("no_shuffle",
                   "walks the instances in their given order every epoch: shuffle at the start of each epoch with "
                   "order = torch.randperm(n, generator=g), and take the batches from order.",
                   lambda c, X, y, w, b: _walk(c, X, y, w, b, _steps(len(y), c, [np.arange(len(y))] * c.epochs))),
    DescentMistake("reseeded_shuffle",
                   "uses the same order every epoch (the generator is re-seeded each epoch, or the data shuffled "
                   "once): seed one torch.Generator once, before the first epoch, and draw a new "
                   "torch.randperm(n, generator=g) at the start of each epoch.",
                   lambda c, X, y, w, b: _walk(c, X, y, w, b, _steps(
                       len(y), c, reference.epoch_orders(len(y), 1, c.seed) * c.epochs))),
    DescentMistake("divides_by_n",
                   "divides each batch's gradient by n instead of the batch's size: a batch's cost is the mean "
                   "over its own B instances, so its gradient carries 2/B (B = len(batch), the last batch may be "
                   "shorter).",
                   lambda c, X, y, w, b: _walk(c, X, y, w, b, _steps(len(y), c),
                                               scale=lambda size, n=len(y): size / n)),
    DescentMistake("drops_last_batch",
                   "skips the last, shorter batch: when batch_size does not divide n, the epoch ends with the "
                   "n % batch_size instances left over, and they take a step too (with batch_size > n, the "
                   "one batch is all n instances).",
                   _drops_last),
    DescentMistake("ignores_batch_size",
                   "takes one full-batch step per epoch whatever batch_size is: cut each epoch's order into "
                   "batches of batch_size and take one step per batch.",
                   lambda c, X, y, w, b: _walk(c, X, y, w, b, [np.arange(len(y))] * c.epochs)),
    DescentMistake("sequential_update",
                   "updates w before computing b's gradient, so grad_b is taken at the new w: compute both "
                   "gradients at the same (w, b), then update both.",
                   lambda c, X, y, w, b: _walk(c, X, y, w, b, _steps(len(y), c), sequential=True)),
    DescentMistake("gradient_ascent",
                   "climbs the cost: descent subtracts the gradient, w <- w - lr * grad_w (the gradient points uphill).",
                   lambda c, X, y, w, b: _walk(c, X, y, w, b, _steps(len(y), c), lr=-c.lr)),
    DescentMistake("missing_lr",
                   "steps by the whole gradient: the update is w <- w - lr * grad_w; without lr the steps overshoot.",
                   lambda c, X, y, w, b: _walk(c, X, y, w, b, _steps(len(y), c), lr=1.0)),
    DescentMistake("extra_epoch",
                   "runs one epoch too many: loop exactly `epochs` times (range(epochs)).",
                   _one_epoch_off(+1)),
    DescentMistake("missing_epoch",
                   "runs one epoch too few: loop exactly `epochs` times (range(epochs), not range(1, epochs)).",
                   _one_epoch_off(-1)),
    DescentMistake("unchanged",
                   "returns the starting w and b unchanged: update them at every batch and return the updated values.",
                   lambda c, X, y, w, b: reference.walk_batches(X, y, w, b, c.lr, [])),
)

# Recognised from the shapes rather than by a variant.
BROADCAST_SQUARE = ("broadcast_square",
                    "lets w of shape (d, 1) meet a gradient of shape (d,): w - lr * grad_w broadcast to a (d, d) "
                    "matrix. grad_w returns shape (d,) whatever w's shape; step with "
                    "w - lr * grad_w(...).reshape(w.shape) so w keeps its shape.")


# --- max_stable_lr ------------------------------------------------------------------------------

def _augmented(X) -> np.ndarray:
    return np.hstack([X, np.ones((X.shape[0], 1))])


def _largest(matrix) -> float:
    return float(np.linalg.eigvalsh(matrix)[-1])


@dataclass(frozen=True)
class RateMistake:
    id: str
    sentence: str
    formula: Callable   # formula(X) -> the number this mistake returns


RATE_MISTAKES = (
    RateMistake("hessian_without_2_over_n",
                "uses X^T X (with its column of ones) without the 2/n in front: C = 1/n sum r_i^2, so "
                "H = 2/n [[X^T X, X^T 1], [1^T X, n]]; without 2/n the rate is n/2 times too small.",
                lambda X: 2.0 / _largest(_augmented(X).T @ _augmented(X))),
    RateMistake("hessian_missing_two",
                "leaves out the 2 of H = 2/n [[X^T X, X^T 1], [1^T X, n]] (the power rule's 2 is in the "
                "Hessian too), so the rate is twice too large.",
                lambda X: 2.0 / _largest(_augmented(X).T @ _augmented(X) / len(X))),
    RateMistake("hessian_without_mean",
                "leaves out the 1/n of H = 2/n [[X^T X, X^T 1], [1^T X, n]] (C is a mean), so the rate is "
                "n times too small.",
                lambda X: 2.0 / _largest(2.0 * _augmented(X).T @ _augmented(X))),
    RateMistake("one_over_lambda",
                "returns 1 / lambda_max: descent is stable while |1 - lr lambda| < 1 for every eigenvalue, "
                "that is lr < 2 / lambda_max.",
                lambda X: 0.5 * reference.max_stable_lr(X)),
    RateMistake("hessian_without_bias",
                "uses the Hessian of w alone, 2/n X^T X: b is a parameter too, so H = 2/n A^T A with "
                "A = [X, 1] (X with a column of ones).",
                lambda X: 2.0 / _largest(2.0 / len(X) * X.T @ X)),
    RateMistake("lambda_min",
                "uses the smallest eigenvalue: the step is stable only if it is stable along the steepest "
                "direction, so the bound is 2 / lambda_max.",
                lambda X: 2.0 / float(np.linalg.eigvalsh(reference.hessian(X))[0])),
    RateMistake("returns_lambda_max",
                "returns lambda_max itself: the largest stable learning rate is 2 / lambda_max.",
                lambda X: _largest(reference.hessian(X))),
    RateMistake("trace_instead",
                "divides by the trace of H (the sum of all eigenvalues) instead of its largest eigenvalue "
                "(torch.linalg.eigvalsh(H)[-1]).",
                lambda X: 2.0 / float(np.trace(reference.hessian(X)))),
)


# Recognised from what was returned or raised rather than by formula: the same words as assignment 1's.
KIND_SENTENCES = dict(GENERIC_KIND_SENTENCES)
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


@dataclass(frozen=True)
class Named:
    id: str
    sentence: str


# Every named formula, update-rule and Hessian mistake (docs/assignments.md): what the class report counts.
CATALOGUE = (*GRADIENT_MISTAKES, *DESCENT_MISTAKES, Named(*BROADCAST_SQUARE), *RATE_MISTAKES)


def sentence_of(mistake_id: str, function: str | None = None) -> str | None:
    """The catalogue's sentence for a mistake id, or None when it is not catalogued."""
    if function == "minibatch_sgd" or function is None:
        for mistake in DESCENT_MISTAKES:
            if mistake.id == mistake_id:
                return mistake.sentence
        if mistake_id == BROADCAST_SQUARE[0]:
            return BROADCAST_SQUARE[1]
    if function == "max_stable_lr" or function is None:
        for mistake in RATE_MISTAKES:
            if mistake.id == mistake_id:
                return mistake.sentence
    for mistake in GRADIENT_MISTAKES:
        if mistake.id == mistake_id and mistake.sentence and (function is None or function in mistake.functions):
            return mistake.sentence
    return None


# What a case explained by a named mistake earns: course.toml's [mistakes.mse-gradient-vector]
# (mistake id -> fraction of the case's points); a mistake not listed earns nothing.
MISTAKE_CREDIT: dict[str, float] = dict(config.settings()["mistakes"].get(spec.ASSIGNMENT) or {})


def credit(mistake_id: str) -> float:
    """The fraction of a case's points a case explained by ``mistake_id`` earns."""
    return float(MISTAKE_CREDIT.get(mistake_id, 0.0))


def _check_configured_credit() -> None:
    known = {mistake.id for mistake in CATALOGUE}
    for name in MISTAKE_CREDIT:
        if name not in known:
            raise config.ConfigError(f"{config.path()}: mistakes.{spec.ASSIGNMENT}.{name} is not a catalogued "
                                     f"mistake of {spec.ASSIGNMENT}; expected one of {', '.join(sorted(known))}")


def is_catalogued(mistake_id: str | None, function: str | None = None) -> bool:
    return mistake_id is not None and sentence_of(mistake_id, function) is not None


def catalogue() -> dict[str, list[str]]:
    """{function: [mistake ids]}: the whole catalogue, in order, each id once."""
    found: dict[str, list[str]] = {}
    for mistake in GRADIENT_MISTAKES:
        for function in mistake.functions:
            found.setdefault(function, [])
            if mistake.id not in found[function]:
                found[function].append(mistake.id)
    found["minibatch_sgd"] = [m.id for m in DESCENT_MISTAKES] + [BROADCAST_SQUARE[0]]
    found["max_stable_lr"] = [m.id for m in RATE_MISTAKES]
    return found


_check_configured_credit()
