"""The catalogue of known-wrong answers, each with the sentence that names it.

A formula mistake is a wrong formula run on the same inputs as the student;
when the student's numbers match it, its sentence is the feedback. Each
sentence points back to the step of the derivation that went wrong (the
lessons' notation: u_i = y_hat_i - y_i, C = 1/n sum u_i^2).
"""
from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Callable

import numpy as np

from autograder import config, reference
from autograder.data import X_LECTURE, Y_LECTURE

# What a case explained by a named mistake earns, as a fraction of a passing
# case (mistake id -> fraction): course.toml's [mistakes]. A mistake not listed
# earns nothing; a course that wants, say, half credit for a missing 2 sets
# `missing_two = 0.5` there. A pair of mistakes earns the product of the two.
MISTAKE_CREDIT: dict[str, float] = dict(config.settings()["mistakes"])
DEFAULT_CREDIT = 0.0


def credit(mistake_id: str) -> float:
    """The fraction of a case's points a case explained by ``mistake_id`` earns."""
    fraction = 1.0
    for part in mistake_id.split(PAIR):
        fraction *= MISTAKE_CREDIT.get(part, DEFAULT_CREDIT)
    return fraction


# A pair of mistakes is named by joining the two ids.
PAIR = "+"


@dataclass(frozen=True)
class Mistake:
    """A wrong gradient formula. ``slot`` says how it composes with another mistake:

    - "formula": replaces the right formula (formula(x, y, m, b, y_hat, function));
    - "scale": multiplies the right value by scale(n);
    - "inputs": the right formula on other inputs (inputs(x, y, m, b, y_hat) -> the same five);
    - "after": rounds what the rest computed (after(values)).

    Two mistakes compose when their slots differ, or when both scale.
    ``formula`` is the mistake alone, whatever its slot.
    """

    id: str
    functions: tuple[str, ...]
    sentence: str
    formula: Callable | None = None
    slot: str = "formula"
    scale: Callable | None = None
    inputs: Callable | None = None
    after: Callable | None = None


def _e(y, y_hat):
    return y_hat - y


def _scale_mistake(id, functions, sentence, scale):
    return Mistake(id, functions, sentence,
                   lambda x, y, m, b, yh, f: scale(len(y)) * correct_gradient(f, x, y, m, b, yh),
                   slot="scale", scale=scale)


def _inputs_mistake(id, functions, sentence, inputs):
    return Mistake(id, functions, sentence,
                   lambda x, y, m, b, yh, f: correct_gradient(f, *inputs(x, y, m, b, yh)),
                   slot="inputs", inputs=inputs)


def _swap_m_b(x, y, m, b, y_hat):
    return x, y, b, m, b * x + m


# The notebook's own x and y (its set-up cell loads the lecture's data, at float32).
_X_NOTEBOOK = np.asarray(np.float32(X_LECTURE), dtype=float)
_Y_NOTEBOOK = np.asarray(np.float32(Y_LECTURE), dtype=float)


def _notebook_data(x, y, m, b, y_hat):
    return _X_NOTEBOOK, _Y_NOTEBOOK, m, b, m * _X_NOTEBOOK + b


def _integer_two_over_n(n):
    """(2 // n) / (2 / n): what integer division makes of the factor 2/n."""
    return (2 // n) * n / 2.0


ALL = ("dC_dyhat", "dC_dm", "dC_db")

GRADIENT_MISTAKES = (
    _scale_mistake("missing_two", ALL,
                   "is half the expected value: the factor 2 from the power rule is missing "
                   "(d/du u^2 = 2u, so dC/du_i = 2 u_i / n).",
                   lambda n: 0.5),
    _scale_mistake("missing_mean", ALL,
                   "is n times too large: the 1/n of the mean is missing (a sum instead of a mean; "
                   "C averages the squared residuals over all n instances).",
                   lambda n: float(n)),
    _scale_mistake("double_mean", ALL,
                   "is n times too small: 1/n is applied twice (a mean and a division by n); "
                   "C = 1/n sum u_i^2 carries one 1/n.",
                   lambda n: 1.0 / n),
    _scale_mistake("sign_flipped", ALL,
                   "has the wrong sign: the residual is u_i = y_hat_i - y_i (prediction minus target), "
                   "and du_i/dy_hat_i = +1.",
                   lambda n: -1.0),
    _scale_mistake("no_two_no_mean", ALL,
                   "is missing both the 2 from the power rule and the 1/n of the mean.",
                   lambda n: n / 2.0),
    _scale_mistake("n_minus_one", ALL,
                   "divides by n - 1 instead of n: C is the mean over all n instances, C = 1/n sum u_i^2, "
                   "so its derivative carries 2/n (n - 1 belongs to the sample variance, not to this cost).",
                   lambda n: n / (n - 1.0) if n > 1 else np.inf),
    _scale_mistake("integer_division", ALL,
                   "uses integer division (//): 2 // n is 0 once n > 2, and a // n rounds down; the factor "
                   "2/n (the power rule's 2 over the mean's n) needs true division, 2 / n.",
                   _integer_two_over_n),
    Mistake("integer_division", ALL,
            "uses integer division (//): 2 // n is 0 once n > 2, and a // n rounds down; the factor "
            "2/n (the power rule's 2 over the mean's n) needs true division, 2 / n.",
            lambda x, y, m, b, yh, f: np.floor(correct_gradient(f, x, y, m, b, yh)),
            slot="after", after=np.floor),
    _inputs_mistake("swapped_m_b", ("dC_dm", "dC_db"),
                    "builds the prediction with m and b swapped (b * x + m): the line is y_hat_i = m x_i + b, "
                    "the slope m times x_i plus the intercept b.",
                    _swap_m_b),
    _inputs_mistake("global_data", ("dC_dm", "dC_db"),
                    "uses the notebook's x and y (the lecture's data) instead of its arguments: compute "
                    "y_hat_i = m x_i + b from the x passed in and compare it with the y passed in, whatever "
                    "their names in the notebook (the hidden checks pass other data).",
                    _notebook_data),
    Mistake("squared_residual", ("dC_dyhat",),
            "squares the residual: the power rule brings the exponent down, d/du u^2 = 2u, not u^2.",
            lambda x, y, m, b, yh, f: 2.0 * _e(y, yh) ** 2 / len(y)),
    Mistake("returns_cost", ALL,
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

# What sgd's words say instead (sgd is graded by its path, never against autograd).
SGD_KIND_SENTENCES = {
    "wrong_type": "does not return the pair (m, b)",
    "pair_length": "does not return the pair (m, b)",
    "autograd": "lets torch compute the gradient (backward, torch.optim or torch.func); update m and b with "
                "the gradients from your own dC_dm and dC_db, by hand",
    "unknown": "does not follow the reference descent path, and matches none of the common mistakes",
    "not_descent": "does not take gradient-descent steps: each epoch must move (m, b) by -lr times the "
                   "gradient at the current (m, b), no more and no less",
    "cost_rises": "lets the cost rise",
}

# Said of an sgd that never calls the student's dC_dm / dC_db (its path is graded as usual).
OWN_GRADIENT_SENTENCE = ("sgd computes its own gradient instead of calling {names}: call them inside the loop, "
                         "so that it descends with the gradients you wrote and checked above.")


def gradient_mistakes(function: str) -> tuple[Mistake, ...]:
    return tuple(m for m in GRADIENT_MISTAKES if function in m.functions)


def _compose(first: Mistake, second: Mistake) -> Callable | None:
    """The formula of both mistakes at once, or None when they do not compose."""
    if first.id == second.id or (first.slot == second.slot and first.slot != "scale"):
        return None
    parts = {m.slot: m for m in (first, second) if m.slot != "scale"}
    scales = [m.scale for m in (first, second) if m.slot == "scale"]
    base, inputs, after = parts.get("formula"), parts.get("inputs"), parts.get("after")

    def formula(x, y, m, b, yh, f):
        args = inputs.inputs(x, y, m, b, yh) if inputs is not None else (x, y, m, b, yh)
        value = np.asarray(base.formula(*args, f) if base is not None else correct_gradient(f, *args), dtype=float)
        for scale in scales:
            value = scale(len(y)) * value
        return after.after(value) if after is not None else value

    return formula


_ORDER: dict[str, int] = {}
for _index, _mistake in enumerate(GRADIENT_MISTAKES):
    _ORDER.setdefault(_mistake.id, _index)


@functools.lru_cache(maxsize=None)
def mistake_pairs(function: str) -> tuple[tuple[str, Callable], ...]:
    """(id, formula) for every pair of this function's mistakes that compose (a mistake with
    several formulas gives a pair per formula), named "first+second" in catalogue order."""
    found = []
    for first, second in itertools.combinations(gradient_mistakes(function), 2):
        formula = _compose(first, second)
        if formula is not None:
            ids = sorted((first.id, second.id), key=_ORDER.__getitem__)
            found.append((PAIR.join(ids), formula))
    return tuple(found)


def rounding_factor(mistake_id: str, n: int) -> float:
    """How many times the right answer's rounding a mistake's numbers carry (its scale, at least 1)."""
    factor = 1.0
    for part in mistake_id.split(PAIR):
        scale = _SCALES.get(part)
        if scale is not None:
            with np.errstate(all="ignore"):
                size = abs(scale(n))
            factor *= size if np.isfinite(size) and size > 1.0 else 1.0
    return factor


_SCALES = {m.id: m.scale for m in GRADIENT_MISTAKES if m.slot == "scale"}


def gradient_formulas(function: str, mistake_id: str) -> list[Callable]:
    """Every formula that ``mistake_id`` (one mistake, or a pair a+b) stands for."""
    if PAIR in mistake_id:
        return [formula for key, formula in mistake_pairs(function) if key == mistake_id]
    return [m.formula for m in gradient_mistakes(function) if m.id == mistake_id]


def sentence_of(mistake_id: str, function: str | None = None) -> str | None:
    """The catalogue's sentence for a mistake id (one, or a pair a+b) of ``function`` (any when None);
    None when it is not catalogued."""
    catalogue = (DESCENT_MISTAKES if function == "sgd" else GRADIENT_MISTAKES if function
                 else (*GRADIENT_MISTAKES, *DESCENT_MISTAKES))
    sentences: dict[str, str] = {}
    for mistake in catalogue:
        sentences.setdefault(mistake.id, mistake.sentence)
    parts = mistake_id.split(PAIR)
    if any(part not in sentences for part in parts):
        return None
    if len(parts) == 1:
        return sentences[mistake_id]
    first, second = (sentences[part] for part in parts)
    return f"has two of the common mistakes. It {first} It also {second}"


def is_catalogued(mistake_id: str | None, function: str | None = None) -> bool:
    return mistake_id is not None and sentence_of(mistake_id, function) is not None


def correct_gradient(function: str, x, y, m, b, y_hat):
    """The hand-derived formula at float64 (what the mistakes are variations of)."""
    e = y_hat - y
    n = len(y)
    if function == "dC_dyhat":
        return 2.0 * e / n
    if function == "dC_dm":
        return 2.0 * np.sum(e * x) / n
    return 2.0 * np.sum(e) / n


# --- gradient descent -------------------------------------------------------

@dataclass(frozen=True)
class DescentMistake:
    id: str
    sentence: str
    # variant(case, x, y, m, b) -> the (m, b) this mistake returns on the case (float64).
    variant: Callable


def descend(x, y, m, b, lr, epochs, sequential: bool = False) -> tuple[float, float]:
    """reference.descent_path's end point (or the sequential-update variant's), memoised:
    every student is judged on the same cases, so each run is computed once per grader."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return _descend_cached(x.tobytes(), y.tobytes(), float(m), float(b), float(lr), max(0, int(epochs)), sequential)


@functools.lru_cache(maxsize=4096)
def _descend_cached(x_bytes, y_bytes, m, b, lr, epochs, sequential):
    ms, bs = reference.descent_path(np.frombuffer(x_bytes), np.frombuffer(y_bytes), m, b, lr, epochs, sequential)
    return float(ms[-1]), float(bs[-1])


def descend_path(x, y, m, b, lr, epochs) -> tuple[np.ndarray, np.ndarray]:
    """The float64 path (m, b after 0..epochs steps), memoised like ``descend``."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return _path_cached(x.tobytes(), y.tobytes(), float(m), float(b), float(lr), int(epochs))


@functools.lru_cache(maxsize=1024)
def _path_cached(x_bytes, y_bytes, m, b, lr, epochs):
    return reference.descent_path(np.frombuffer(x_bytes), np.frombuffer(y_bytes), m, b, lr, epochs)


_run = descend


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
                   lambda c, x, y, m, b: _run(x, y, m, b, c.lr, c.epochs - 1)),
    DescentMistake("sequential_update",
                   "updates m before computing dC/db, so b's gradient is taken at the new m: compute both "
                   "gradients at the same (m, b), then update both.",
                   lambda c, x, y, m, b: descend(x, y, m, b, c.lr, c.epochs, sequential=True)),
    DescentMistake("gradient_ascent",
                   "climbs the cost: descent subtracts the gradient, m <- m - lr * dC/dm (the gradient points uphill).",
                   lambda c, x, y, m, b: _run(x, y, m, b, -c.lr, c.epochs)),
    DescentMistake("missing_lr",
                   "steps by the whole gradient: the update is m <- m - lr * dC/dm; without lr the steps overshoot.",
                   lambda c, x, y, m, b: _run(x, y, m, b, 1.0, c.epochs)),
    DescentMistake("closed_form",
                   "returns the least-squares optimum (the closed form) instead of descending: sgd must take "
                   "`epochs` gradient steps from the given m and b.",
                   lambda c, x, y, m, b: _least_squares(x.tobytes(), y.tobytes())),
    DescentMistake("hard_coded",
                   "returns the lecture's final parameters whatever the data: compute them by descending.",
                   lambda c, x, y, m, b: _lecture_end()),
    DescentMistake("ignores_lr",
                   f"ignores the lr argument and always uses {reference.LR}: use the lr passed in.",
                   lambda c, x, y, m, b: _run(x, y, m, b, reference.LR, c.epochs)),
    DescentMistake("ignores_epochs",
                   "ignores the epochs argument (always the same number of steps): loop `epochs` times.",
                   lambda c, x, y, m, b: _run(x, y, m, b, c.lr, reference.LECTURE_EPOCHS)),
    DescentMistake("unchanged",
                   "returns the starting m and b unchanged: update them inside the loop and return the updated values.",
                   lambda c, x, y, m, b: (m, b)),
    DescentMistake("swapped",
                   "returns (b, m): return the slope first, (m, b).",
                   lambda c, x, y, m, b: tuple(reversed(_run(x, y, m, b, c.lr, c.epochs)))),
    DescentMistake("sgd_global_data",
                   "descends on the notebook's x and y (the lecture's data) instead of its arguments: pass the "
                   "x and y that sgd receives to dC_dm and dC_db (the hidden checks pass other data).",
                   lambda c, x, y, m, b: _run(_X_NOTEBOOK, _Y_NOTEBOOK, m, b, c.lr, c.epochs)),
)


# Every named formula and update-rule mistake (docs/assignments.md): what the class report counts.
CATALOGUE = (*GRADIENT_MISTAKES, *DESCENT_MISTAKES)


def _check_configured_credit() -> None:
    """course.toml's [mistakes] may only name catalogued mistakes."""
    known = ({mistake.id for mistake in GRADIENT_MISTAKES} | {mistake.id for mistake in DESCENT_MISTAKES}
             | set(KIND_SENTENCES) | set(SGD_KIND_SENTENCES))
    for name, value in MISTAKE_CREDIT.items():
        if isinstance(value, dict):    # [mistakes.<id>]: another assignment's (its own catalogue checks them)
            continue
        if name not in known:
            raise config.ConfigError(f"{config.path()}: mistakes.{name} is not a catalogued mistake; "
                                     f"expected one of {', '.join(sorted(known))}")


_check_configured_credit()
