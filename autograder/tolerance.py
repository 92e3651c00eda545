"""How far a right answer may be from the float64 truth: rounding bounds from the case's own data.

An answer is right when it is right in the precision it computed in. The
judge computes the truth at float64 and allows the worst-case rounding error
of computing it at the answer's precision, from the terms of the case itself
(so a sum of many terms, or one with cancellation, gets the room it needs,
and a small easy one does not):

- a gradient, a sum of n terms, each built from a few roundings:
  |got - truth| <= u * (n + OPERATIONS_PER_TERM) * sum_i |terms_i|
  (recursive summation's bound, gamma_{n-1} sum |t_i|, plus each term's own
  roundings; |terms_i| takes the parts of the residual apart, |m x_i| + |b| + |y_i|,
  so cancellation inside y_hat_i - y_i is covered too);
- a descent step, m - lr * dC/dm: the rounding of the step plus lr times the
  gradient's bound;
- a descent run of E steps: each step's error, carried to the end by
  (I - lr H), whose norm is rho = max |1 - lr lambda| (H symmetric):
  sum_k rho^(E-1-k) * step_k.

u is the unit roundoff of the answer's precision (``precision``): float32's,
whatever the dtypes say (see FINEST_HELD_TO and COARSEST_HELD_TO). The bounds
are first order, doubled by SAFETY for the second-order terms. Relative
errors are reported as |a - b| / max(REL_FLOOR, |a| + |b|) (house style).
"""
from __future__ import annotations

import numpy as np

# Unit roundoff (half the machine epsilon) of each floating-point type.
UNIT_ROUNDOFF = {"float64": 2.0 ** -53, "float32": 2.0 ** -24, "bfloat16": 2.0 ** -8, "float16": 2.0 ** -11}
# Below its smallest normal number a type keeps less than full relative precision.
SMALLEST_NORMAL = {"float64": 2.0 ** -1022, "float32": 2.0 ** -126, "bfloat16": 2.0 ** -126, "float16": 2.0 ** -14}
# The finest precision an answer is held to. A result computed in float32 can
# be widened afterwards (float(...), .double(), .item(), or a float64 shape-[1]
# m meeting x.float() promotes to float64), and its dtype then no longer shows
# it; so float64 results get float32's room too.
FINEST_HELD_TO = "float32"
# The coarsest. The returned dtype is the student's side's word, so it may not
# loosen the check further; and at half precision the catalogued mistakes can
# no longer be told from the right answer on the larger cases. A float16 or
# bfloat16 answer is held to float32.
COARSEST_HELD_TO = "float32"
# Roundings inside one term of the sum, besides the summation: converting x, y,
# m, b to the working precision (4), m*x, +b, -y, *x, *2, /n (6), and room for
# evaluating them in another order (mean instead of sum / n, 2/n first, ...).
OPERATIONS_PER_TERM = 16
# Roundings in one descent step m - lr * g besides the gradient's own: lr * g,
# the subtraction, and converting m (or b) to the working precision and back.
OPERATIONS_PER_STEP = 4
# First-order bounds, doubled for the second-order terms (u^2 n^2 is far below
# u n for n <= 10^6 at float32).
SAFETY = 2.0
# Floor of the relative error's denominator, so two zeros agree.
REL_FLOOR = 1e-300


def precision(*dtypes: str | None) -> str:
    """The precision an answer is judged at: the coarsest of the inputs' and the result's dtypes
    (unknown ones ignored), between FINEST_HELD_TO and COARSEST_HELD_TO."""
    known = [d for d in dtypes if d in UNIT_ROUNDOFF] + [FINEST_HELD_TO]
    coarsest = max(known, key=lambda d: UNIT_ROUNDOFF[d])
    return min(coarsest, COARSEST_HELD_TO, key=lambda d: UNIT_ROUNDOFF[d])


def relative_error(a, b) -> np.ndarray:
    """|a - b| / max(REL_FLOOR, |a| + |b|), elementwise."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(all="ignore"):
        return np.abs(a - b) / np.maximum(REL_FLOOR, np.abs(a) + np.abs(b))


def gradient_terms(function: str, x, y, m: float, b: float, y_hat) -> np.ndarray:
    """|terms| whose rounding a right answer may carry: shape (n,) per element for
    dC_dyhat, and one number (their sum) for dC_dm and dC_db."""
    n = len(y)
    if function == "dC_dyhat":
        return 2.0 * (np.abs(y_hat) + np.abs(y)) / n
    parts = np.abs(m * x) + abs(b) + np.abs(y)
    if function == "dC_dm":
        parts = parts * np.abs(x)
    return np.asarray(2.0 * np.sum(parts) / n)


def gradient_bound(function: str, x, y, m: float, b: float, y_hat, dtype: str) -> np.ndarray:
    """The largest |got - truth| a right answer computed at ``dtype`` can show (per element for dC_dyhat)."""
    u = UNIT_ROUNDOFF[dtype]
    n = len(y)
    # dC_dyhat's entries are not sums: only the per-term roundings.
    count = OPERATIONS_PER_TERM if function == "dC_dyhat" else n + OPERATIONS_PER_TERM
    terms = gradient_terms(function, x, y, m, b, y_hat)
    return SAFETY * count * (u * terms + SMALLEST_NORMAL[dtype])


def _gradient_sums(x, y):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ax, ay = np.abs(x), np.abs(y)
    return len(x), float(np.sum(ax)), float(np.sum(ax * ax)), float(np.sum(ay)), float(np.sum(ay * ax))


def step_bound(x, y, m, b, lr: float, dtype: str):
    """The largest error of one descent step from (m, b) computed at ``dtype``: (for m, for b).

    m and b may be arrays (one step from each point).
    """
    u = UNIT_ROUNDOFF[dtype]
    n, sax, saxx, say, saxy = _gradient_sums(x, y)
    m, b = np.abs(np.asarray(m, dtype=float)), np.abs(np.asarray(b, dtype=float))
    count = n + OPERATIONS_PER_TERM
    # The gradients' terms, summed in closed form: 2/n sum (|m x_i| + |b| + |y_i|) |x_i|, and without |x_i|.
    terms_m = 2.0 * (m * saxx + b * sax + saxy) / n
    terms_b = 2.0 * (m * sax + b * n + say) / n
    lr = abs(float(lr))
    step_m = OPERATIONS_PER_STEP * u * (m + lr * terms_m) + lr * count * u * terms_m
    step_b = OPERATIONS_PER_STEP * u * (b + lr * terms_b) + lr * count * u * terms_b
    tiny = count * SMALLEST_NORMAL[dtype]
    return SAFETY * (step_m + tiny), SAFETY * (step_b + tiny)


def contraction(x, lr: float) -> float:
    """rho = max |1 - lr lambda| over the eigenvalues lambda of C's Hessian: how a step carries an error."""
    from autograder import reference

    eigenvalues = np.linalg.eigvalsh(reference.hessian(x))
    return float(np.max(np.abs(1.0 - lr * eigenvalues)))


def run_bound(x, y, m_path, b_path, lr: float, dtype: str) -> float:
    """The largest error (in either parameter) of a whole run whose float64 path is (m_path, b_path).

    m_path[k], b_path[k] are the parameters after k steps; each step's error
    is carried to the end by rho^(steps left).
    """
    u = UNIT_ROUNDOFF[dtype]
    m_path, b_path = np.asarray(m_path, dtype=float), np.asarray(b_path, dtype=float)
    epochs = len(m_path) - 1
    start = SAFETY * OPERATIONS_PER_STEP * u * (abs(m_path[0]) + abs(b_path[0]))
    rho = contraction(x, lr)
    if epochs == 0:
        return start
    step_m, step_b = step_bound(x, y, m_path[:-1], b_path[:-1], lr, dtype)
    with np.errstate(all="ignore"):
        carried = rho ** np.arange(epochs - 1, -1, -1, dtype=float)
        total = float(np.sum(carried * (step_m + step_b))) + rho ** epochs * start
    return total if np.isfinite(total) else np.inf
