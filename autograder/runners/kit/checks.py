"""The visible checks, as the student kit runs them: truth from torch autograd, computed live.

The kit installs this module as ``autograder.checks`` beside
``autograder.data``, and nothing else of the grader: no hidden check, no
answer key, no hand-derived formula. The release notebook's visible test
cells call it exactly as they call the grader's own module:

    from autograder.checks import check
    check("dC_dm_lecture_data")        # prints feedback; its value is the points earned

and ``msegrad check mse_gradient.ipynb`` runs the notebook's code and every
visible check from a terminal. The expected values are autograd's; a wrong
answer is named by comparing it with autograd's own quantities (half of
it, n times it, the other parameter's gradient, one more epoch of descent,
...), so the points equal the grader's on these checks.

It imports only the standard library, numpy, torch and autograder.data.
"""
from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import signal
import sys
import textwrap
import threading
from dataclasses import dataclass

import numpy as np
import torch

from autograder.data import B_START, M_START, lecture_data

# cell id -> (function, points, what it checks): the release's visible test cells.
VISIBLE = {
    "dC_dyhat_lecture_data": ("dC_dyhat", 1, "dC/dy_hat equals autograd on the lecture's eight points."),
    "dC_dm_lecture_data": ("dC_dm", 1, "dC/dm equals autograd on the lecture's data at m = 0.9, b = 0.1, "
                                       "and on its first four points."),
    "dC_db_lecture_data": ("dC_db", 1, "dC/db equals autograd on the lecture's data at m = 0.9, b = 0.1, "
                                       "and on its first four points."),
    "sgd_lecture_run": ("sgd", 2, "sgd reproduces the lecture's first step and its converged line "
                                  "(lr 0.01, 1001 steps), and one step at lr 0.02 on the lecture's first four points."),
}
# The grader's visible cases: (label, how many of the lecture's points, how m and b are passed, lr, epochs).
CASES = {
    "dC_dyhat": [("the lecture's data, m and b as shape-[1] tensors", 8, "shape-[1] tensor", None, None),
                 ("the lecture's data, m and b as floats", 8, "float", None, None)],
    "dC_dm": [("the lecture's data, m and b as shape-[1] tensors", 8, "shape-[1] tensor", None, None),
              ("the lecture's data, m and b as floats", 8, "float", None, None),
              ("the lecture's first 4 points, m and b as 0-d tensors", 4, "0-d tensor", None, None)],
    "sgd": [("the lecture's first step (epochs=1)", 8, "shape-[1] tensor", 0.01, 1),
            ("the lecture's run (epochs=1001)", 8, "shape-[1] tensor", 0.01, 1001),
            ("the lecture's first 4 points, lr=0.02, epochs=1", 4, "shape-[1] tensor", 0.02, 1)],
}
CASES["dC_db"] = CASES["dC_dm"]
# Mistakes that scale the right gradient by a factor of n; pairs of them are named too ("a+b").
SCALES = (("missing_two", lambda n: 0.5), ("missing_mean", lambda n: float(n)), ("double_mean", lambda n: 1.0 / n),
          ("sign_flipped", lambda n: -1.0), ("no_two_no_mean", lambda n: n / 2.0),
          ("n_minus_one", lambda n: n / (n - 1.0) if n > 1 else float("inf")),
          ("integer_division", lambda n: (2 // n) * n / 2.0))
HIDDEN_POINTS = 11   # the hidden checks' points, run when the work is graded
NAMES = {"dC_dyhat": "dC/dy_hat", "dC_dm": "dC/dm", "dC_db": "dC/db", "sgd": "sgd"}
LR = 0.01
# The lecture's run: one step by hand, then 1000 epochs.
LECTURE_STEPS = 1001
# Relative error allowed on float32 inputs (machine epsilon 6e-8, sums of 8 terms),
# and the absolute error on the lecture's float32 descent (it reports 4 decimals).
TOL_GRADIENT = 1e-4
TOL_DESCENT = 1e-4
CALL_SECONDS = 10.0
AUTOGRAD_NAMES = frozenset({"backward", "autograd", "requires_grad", "requires_grad_"})
# The grader's own autograd, kept before any student code can replace it.
_GRAD = torch.autograd.grad

SENTENCES = {
    "missing_two": "is half the expected value: the factor 2 from the power rule is missing "
                   "(d/du u^2 = 2u, so dC/du_i = 2 u_i / n).",
    "missing_mean": "is n times too large: the 1/n of the mean is missing (a sum instead of a mean; "
                    "C averages the squared residuals over all n instances).",
    "double_mean": "is n times too small: 1/n is applied twice (a mean and a division by n); "
                   "C = 1/n sum u_i^2 carries one 1/n.",
    "sign_flipped": "has the wrong sign: the residual is u_i = y_hat_i - y_i (prediction minus target), "
                    "and du_i/dy_hat_i = +1.",
    "no_two_no_mean": "is missing both the 2 from the power rule and the 1/n of the mean.",
    "returns_cost": "returns the cost C = 1/n sum (y_hat_i - y_i)^2 itself, not its derivative.",
    "summed_over_instances": "returns one number: dC/dy_hat has one entry per instance i, 2/n (y_hat_i - y_i); "
                             "do not sum over i (the sum comes later, in dC/dm and dC/db).",
    "missing_x": "is missing the factor x_i: by the chain rule each term is multiplied by dy_hat_i/dm = x_i "
                 "(what you computed is dC/db).",
    "has_x": "multiplies by x_i: dy_hat_i/db = 1, so dC/db = 2/n sum (y_hat_i - y_i) has no x "
             "(what you computed is dC/dm).",
    "per_instance": "returns one value per instance: the chain rule sums the per-instance terms over i, "
                    "so dC/dm and dC/db are single numbers (2/n sum ...).",
    "broadcast_n_by_n": "mixes every instance with every other: a shape (n, 1) tensor met a shape (n,) one and "
                        "broadcast to an n x n matrix (y_hat_i - y_j), so the sum runs over all pairs i, j; "
                        "keep every vector of shape (n,) so each residual pairs with its own x_i.",
    "off_by_one_more": "takes one step too many: `epochs` steps means the loop body runs exactly epochs times "
                       "(range(epochs)).",
    "off_by_one_fewer": "takes one step too few: `epochs` steps means the loop body runs exactly epochs times "
                        "(range(epochs), not range(1, epochs)).",
    "sequential_update": "updates m before computing dC/db, so b's gradient is taken at the new m: compute both "
                         "gradients at the same (m, b), then update both.",
    "gradient_ascent": "climbs the cost: descent subtracts the gradient, m <- m - lr * dC/dm "
                       "(the gradient points uphill).",
    "missing_lr": "steps by the whole gradient: the update is m <- m - lr * dC/dm; without lr the steps overshoot.",
    "closed_form": "returns the least-squares optimum (the closed form) instead of descending: sgd must take "
                   "`epochs` gradient steps from the given m and b.",
    "hard_coded": "returns the lecture's final parameters whatever the data: compute them by descending.",
    "ignores_epochs": "ignores the epochs argument (always the same number of steps): loop `epochs` times.",
    "unchanged": "returns the starting m and b unchanged: update them inside the loop and return the updated values.",
    "swapped": "returns (b, m): return the slope first, (m, b).",
    "not_implemented": "is not written yet (it raises NotImplementedError): replace the raise with your code.",
    "missing": "is not defined: run the cell that defines it, and keep its name and signature.",
    "error": "raised an error",
    "timeout": "did not finish in time (an endless loop, or far too much work per call?)",
    "returns_none": "returned None: is the `return` statement missing?",
    "wrong_type": "does not return a number or tensor",
    "shape": "has the wrong shape",
    "not_finite": "returned NaN or infinity (a division by zero, or an overflow?)",
    "autograd": "uses autograd; this exercise asks for the derivative by hand, so it earns no points here",
    "unknown": "does not match autograd, and matches none of the common mistakes",
}
# Recognised from what was returned or raised; the others compare numbers.
KINDS = ("not_implemented", "missing", "error", "timeout", "returns_none", "wrong_type", "pair_length", "shape",
         "not_finite",
         "autograd", "unknown")


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
    """Notes calls into autograd while student code runs."""
    saved = [(torch.Tensor, "backward"), (torch.autograd, "grad"), (torch.autograd, "backward")]
    originals = [getattr(owner, name) for owner, name in saved]

    def wrap(label, original):
        def spy(*args, **kwargs):
            calls.append(label)
            return original(*args, **kwargs)
        return spy

    for (owner, name), original in zip(saved, originals):
        setattr(owner, name, wrap(name, original))
    try:
        yield
    finally:
        for (owner, name), original in zip(saved, originals):
            setattr(owner, name, original)


def _names_in(function) -> set[str]:
    found, stack = set(), [getattr(function, "__code__", None)]
    while stack:
        code = stack.pop()
        if code is not None:
            found.update(name for name in code.co_names if name in AUTOGRAD_NAMES)
            stack.extend(const for const in code.co_consts if hasattr(const, "co_names"))
    return found


def _call(function, args, kwargs=None):
    """(value, None) or (None, (kind, detail)) for one guarded call, plus the autograd calls it made."""
    calls: list = []
    try:
        with _autograd_spy(calls), _time_limit(CALL_SECONDS):
            return function(*args, **(kwargs or {})), None, calls
    except _Timeout as error:
        return None, ("timeout", str(error)), calls
    except NotImplementedError as error:
        return None, ("not_implemented", f"NotImplementedError: {error}"), calls
    except Exception as error:
        return None, ("error", f"{type(error).__name__}: {error}"[:300]), calls


def _numbers(value):
    """A float64 array from a float, numpy value or tensor; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().double().numpy().reshape(-1)
    if isinstance(value, (int, float, np.ndarray, np.generic)):
        try:
            return np.asarray(value, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            return None
    return None


def _fmt(values) -> str:
    array = np.asarray(values, dtype=float).reshape(-1)
    if array.size == 1:
        return f"{array[0]:.6g}"
    shown = ", ".join(f"{v:.4g}" for v in array[:4])
    return f"[{shown}{', ...' if array.size > 4 else ''}] (shape ({array.size},))"


# --- the cases and autograd's answers -----------------------------------------------------------

def _make(points: int, form: str):
    """(x, y, m, b) of a visible case: fresh copies each call."""
    x, y = lecture_data(torch.float32)
    x, y = x[:points].clone(), y[:points].clone()
    if form == "float":
        return x, y, float(M_START), float(B_START)
    if form == "0-d tensor":
        return x, y, torch.tensor(M_START), torch.tensor(B_START)
    return x, y, torch.tensor([M_START]), torch.tensor([B_START])


def _as64(value) -> torch.Tensor:
    return (value.detach().double() if isinstance(value, torch.Tensor)
            else torch.tensor(float(value), dtype=torch.float64)).reshape(-1)[:1].reshape(())


def _autograd(x, y, m, b) -> dict:
    """Everything autograd says at float64 about C at these inputs, as numpy arrays."""
    x, y = x.detach().double(), y.detach().double()
    n = len(y)
    m_i = _as64(m).expand(n).clone().requires_grad_(True)    # one m per instance: the per-instance terms
    b_i = _as64(b).expand(n).clone().requires_grad_(True)
    y_hat = (m_i * x + b_i).detach().requires_grad_(True)
    cost = torch.sum((m_i * x + b_i - y) ** 2) / n
    g_m, g_b = _GRAD(cost, (m_i, b_i))
    (g_yhat,) = _GRAD(torch.sum((y_hat - y) ** 2) / n, (y_hat,))
    return {"cost": float(cost.detach()), "dC_dyhat": g_yhat.numpy(), "dC_dm": g_m.sum().numpy().reshape(1),
            "dC_db": g_b.sum().numpy().reshape(1), "dC_dm_terms": g_m.detach().numpy(),
            "dC_db_terms": g_b.detach().numpy(), "n": n}


def _gradient_candidates(function: str, truth: dict, x, y, m, b):
    """(mistake, values) to compare a wrong gradient with: autograd's own quantities, scaled, paired or moved."""
    g, n = truth[function], truth["n"]
    for mistake, factor in SCALES:
        yield mistake, factor(n) * g
    for index, (first, one) in enumerate(SCALES):
        for second, other in SCALES[index + 1:]:
            yield f"{first}+{second}", one(n) * other(n) * g
    yield "integer_division", np.floor(g)
    yield "returns_cost", np.array([truth["cost"]])
    if function == "dC_dyhat":
        yield "summed_over_instances", np.array([g.sum()])
    if function == "dC_dm":
        yield "missing_x", truth["dC_db"]
    if function == "dC_db":
        yield "has_x", truth["dC_dm"]
    if function in ("dC_dm", "dC_db"):
        yield "per_instance", truth[f"{function}_terms"]
        yield "swapped_m_b", _autograd(x, y, b, m)[function]
        notebook_x, notebook_y = lecture_data(torch.float32)
        yield "global_data", _autograd(notebook_x, notebook_y, m, b)[function]


def _judge_gradient(function: str, value, truth: dict, inputs):
    """(passed, kind, detail)."""
    if value is None:
        return False, "returns_none", "returned None"
    got = _numbers(value)
    if got is None:
        return False, "wrong_type", f"it returned a {type(value).__name__}"
    expected, n = truth[function], truth["n"]
    # The size of the terms summed, so cancellation cannot fail a right answer.
    terms = truth["dC_dyhat"] if function == "dC_dyhat" else truth[f"{function}_terms"]
    scale = max(float(np.max(np.abs(terms)) if function == "dC_dyhat" else np.sum(np.abs(terms))),
                float(np.max(np.abs(expected))), 1e-300)
    if not np.all(np.isfinite(got)):
        return False, "not_finite", f"returned {_fmt(got)}"

    def close(candidate, to=None):
        to = got if to is None else to
        candidate = np.asarray(candidate, dtype=float).reshape(-1)
        return candidate.size == to.size and float(np.max(np.abs(to - candidate))) / scale <= TOL_GRADIENT

    if close(expected):
        shape = tuple(value.shape) if hasattr(value, "shape") else ()
        if function == "dC_dyhat" and shape != (n,):
            return False, "shape", f"returned shape {shape}; dC/dy_hat must have y_hat's shape ({n},)"
        return True, None, "matches autograd"
    for mistake, candidate in _gradient_candidates(function, truth, *inputs):
        if close(candidate):
            return False, mistake, f"expected {_fmt(expected)}, got {_fmt(got)}"
    if got.size == n * n:
        return False, "broadcast_n_by_n", f"returned {got.size} numbers, an n x n matrix"
    if got.size != expected.size:
        if function != "dC_dyhat" and got.size == n:
            return False, "per_instance", f"returned {got.size} numbers, expected a single number"
        if function == "dC_dyhat" and got.size == 1:
            return False, "summed_over_instances", f"returned one number, expected shape ({n},)"
        return False, "shape", f"returned {got.size} numbers, expected {expected.size}"
    return False, "unknown", f"expected {_fmt(expected)}, got {_fmt(got)}"


def _descend(x, y, m, b, lr, epochs, sequential=False):
    """Gradient descent on C at float64 with autograd's gradients; the final (m, b)."""
    x, y = x.detach().double(), y.detach().double()
    m, b = _as64(m), _as64(b)
    n = len(y)
    with np.errstate(all="ignore"):
        for _ in range(epochs):
            m_t, b_t = m.clone().requires_grad_(True), b.clone().requires_grad_(True)
            g_m, g_b = _GRAD(torch.sum((m_t * x + b_t - y) ** 2) / n, (m_t, b_t))
            if sequential:
                m_t = (m - lr * g_m).requires_grad_(True)
                (g_b,) = _GRAD(torch.sum((m_t * x + b_t - y) ** 2) / n, (b_t,))
            m, b = m - lr * g_m, b - lr * g_b
    return float(m), float(b)


def _descent_candidates(x, y, m, b, lr, epochs):
    yield "off_by_one_more", _descend(x, y, m, b, lr, epochs + 1)
    if epochs > 0:
        yield "off_by_one_fewer", _descend(x, y, m, b, lr, epochs - 1)
        yield "sequential_update", _descend(x, y, m, b, lr, epochs, sequential=True)
        yield "gradient_ascent", _descend(x, y, m, b, -lr, epochs)
        yield "missing_lr", _descend(x, y, m, b, 1.0, epochs)
    design = torch.stack([x.double(), torch.ones_like(x, dtype=torch.float64)], dim=1)
    solution = torch.linalg.lstsq(design, y.double().unsqueeze(1)).solution
    yield "closed_form", (float(solution[0, 0]), float(solution[1, 0]))
    lecture_x, lecture_y = lecture_data(torch.float32)
    yield "hard_coded", _descend(lecture_x, lecture_y, torch.tensor([M_START]), torch.tensor([B_START]),
                                 LR, LECTURE_STEPS)
    if epochs != LECTURE_STEPS - 1:
        yield "ignores_epochs", _descend(x, y, m, b, lr, LECTURE_STEPS - 1)
    if lr != LR:
        yield "ignores_lr", _descend(x, y, m, b, LR, epochs)
    if epochs > 0:
        yield "unchanged", (float(_as64(m)), float(_as64(b)))
    expected = _descend(x, y, m, b, lr, epochs)
    yield "swapped", (expected[1], expected[0])
    notebook_x, notebook_y = lecture_data(torch.float32)
    if len(x) != len(notebook_x):
        yield "sgd_global_data", _descend(notebook_x, notebook_y, m, b, lr, epochs)


class _Gradient:
    """Stands in for the student's dC_dm or dC_db inside their sgd: autograd's gradient, so a wrong
    dC_dm is not charged twice."""

    def __init__(self, parameter: str):
        self.parameter = parameter

    def __call__(self, x, y, m, b):
        dtype = x.dtype if isinstance(x, torch.Tensor) else torch.float64
        m_t = (m.detach().to(dtype) if isinstance(m, torch.Tensor) else torch.tensor(float(m), dtype=dtype))
        b_t = (b.detach().to(dtype) if isinstance(b, torch.Tensor) else torch.tensor(float(b), dtype=dtype))
        m_t, b_t = m_t.clone().requires_grad_(True), b_t.clone().requires_grad_(True)
        cost = torch.sum((m_t * x + b_t - y) ** 2) / len(y)
        (grad,) = _GRAD(cost, (m_t if self.parameter == "m" else b_t,))
        return grad.detach().sum()


def _judge_descent(value, x, y, m, b, lr, epochs):
    if value is None:
        return False, "returns_none", "returned None"
    if isinstance(value, (tuple, list)):
        pair = [_numbers(part) for part in value]
        if len(value) != 2:
            return False, "pair_length", f"returned {len(value)} value{'s' if len(value) != 1 else ''}; return (m, b)"
        if any(part is None or part.size != 1 for part in pair):
            return False, "wrong_type", "returned a pair that is not two numbers"
        got = np.array([pair[0][0], pair[1][0]])
    else:
        got = _numbers(value)           # a tensor or array of two numbers is the pair too
        if got is None:
            return False, "wrong_type", f"returned a {type(value).__name__}; return (m, b)"
        if got.size != 2:
            return False, "pair_length", f"returned {got.size} value{'s' if got.size != 1 else ''}; return (m, b)"
    expected = np.array(_descend(x, y, m, b, lr, epochs))
    detail = f"expected (m, b) = ({expected[0]:.7g}, {expected[1]:.7g}), got ({got[0]:.7g}, {got[1]:.7g})"
    if not np.all(np.isfinite(got)):
        return False, "not_finite", detail
    if float(np.max(np.abs(got - expected))) <= TOL_DESCENT:
        return True, None, detail
    for mistake, candidate in _descent_candidates(x, y, m, b, lr, epochs):
        candidate = np.asarray(candidate, dtype=float)
        if np.all(np.isfinite(candidate)) and float(np.max(np.abs(got - candidate))) <= TOL_DESCENT:
            return False, mistake, detail
    return False, "unknown", detail


# --- one check ---------------------------------------------------------------------------------

# What sgd's words say instead (sgd is graded by its path, never against autograd).
SGD_SENTENCES = {
    "wrong_type": "does not return the pair (m, b)",
    "pair_length": "does not return the pair (m, b)",
    "unknown": "does not follow the reference descent path, and matches none of the common mistakes",
}


def _sentence(function: str, kind: str) -> str:
    if function == "sgd" and kind in SGD_SENTENCES:
        return f"sgd {SGD_SENTENCES[kind]}"
    return f"{NAMES[function]} {SENTENCES.get(kind, SENTENCES['unknown'])}"


def _summary(cell_id: str, function: str, points: float, labels, outcomes, what: str, same=()) -> Result:
    """Points and words, as the grader gives them: a named mistake earns nothing, and a case that
    cannot tell the named mistake from the right answer does not count."""
    failures = [(label, kind, detail) for label, (ok, kind, detail) in zip(labels, outcomes) if not ok]
    total = len(outcomes)
    if not failures:
        return Result(cell_id, float(points), points, f"{NAMES[function]} {what} on all {total} cases.")
    kinds = [kind for _, kind, _ in failures]
    kind = max(set(kinds), key=lambda k: (kinds.count(k), -kinds.index(k)))
    label, _, detail = next(f for f in failures if f[1] == kind)
    named = kind not in KINDS and len(set(kinds)) == 1
    silent = [index for index, (ok, _, _) in enumerate(outcomes) if ok and named and index < len(same)
              and same[index](kind)]
    counted = total - len(silent)
    passed = sum(1 for ok, _, _ in outcomes if ok) - len(silent)
    earned = 0.0 if named or not counted else round(points * passed / counted, 2)
    more = ""
    if silent:
        more = (f" ({len(silent)} more cannot tell this mistake from the right answer and "
                f"{'does' if len(silent) == 1 else 'do'} not count)")
    sentence = _sentence(function, kind)
    if kind in ("not_implemented", "missing"):
        message = sentence
    elif kind in KINDS:
        message = f"{passed}/{counted} cases pass{more}. {sentence}: {detail}, on {label}."
    else:
        message = f"{passed}/{counted} cases pass{more}. {sentence} ({detail}, on {label}.)"
    return Result(cell_id, earned, points, message, kind)


def run_check(cell_id: str, namespace: dict) -> Result:
    """Run one visible check on the functions defined in `namespace`."""
    if cell_id not in VISIBLE:
        raise KeyError(f"{cell_id!r} is not a check in the student kit; it runs when your work is graded"
                       if cell_id.split("_")[0] in ("dC", "sgd") else f"unknown check {cell_id!r}")
    function_name, points, _ = VISIBLE[cell_id]
    function = namespace.get(function_name)
    if not callable(function):
        return Result(cell_id, 0.0, points, f"{function_name} {SENTENCES['missing'].split(': ', 1)[1]}", "missing")
    used = _names_in(function)
    labels, outcomes, same = [], [], []      # same[i](kind): the case cannot tell `kind` from the right answer
    if function_name == "sgd":
        saved = {name: namespace.get(name) for name in ("dC_dm", "dC_db")}
        namespace.update(dC_dm=_Gradient("m"), dC_db=_Gradient("b"))
        try:
            for label, points_used, form, lr, epochs in CASES["sgd"]:
                value, failure, calls = _call(function, _make(points_used, form), {"lr": lr, "epochs": epochs})
                used.update(calls)
                labels.append(label)
                x, y, m, b = _make(points_used, form)
                outcomes.append((False, *failure) if failure else _judge_descent(value, x, y, m, b, lr, epochs))
                same.append(lambda kind, case=(x, y, m, b, lr, epochs): _descent_same(kind, *case))
                if failure and failure[0] == "timeout":
                    break
        finally:
            for name, value in saved.items():
                if value is None:
                    namespace.pop(name, None)
                else:
                    namespace[name] = value
        if used:
            return Result(cell_id, 0.0, points, f"sgd lets torch compute the gradient (found: {', '.join(sorted(used))}): "
                          "update m and b with the gradients from your own dC_dm and dC_db.", "autograd")
        return _summary(cell_id, function_name, points, labels, outcomes, "reaches the expected parameters", same)
    for label, points_used, form, _, _ in CASES[function_name]:
        x, y, m, b = _make(points_used, form)
        truth = _autograd(x, y, m, b)
        args = ((m * x + b).reshape(-1), y) if function_name == "dC_dyhat" else (x, y, m, b)
        value, failure, calls = _call(function, args)
        used.update(calls)
        if isinstance(value, torch.Tensor) and value.requires_grad:
            used.add("requires_grad")
        labels.append(label)
        outcomes.append((False, *failure) if failure else _judge_gradient(function_name, value, truth, (x, y, m, b)))
        same.append(lambda kind, case=(x, y, m, b), truth=truth: _gradient_same(function_name, kind, truth, case))
        if failure and failure[0] == "timeout":
            break
    if used:
        return Result(cell_id, 0.0, points, f"{_sentence(function_name, 'autograd')} (found: "
                      f"{', '.join(sorted(used))}). Write the formula from the derivation instead.", "autograd")
    return _summary(cell_id, function_name, points, labels, outcomes, "matches autograd", same)


def _gradient_same(function: str, kind: str, truth: dict, case) -> bool:
    """Whether the mistake `kind` gives the right answer on this case (n = 1 for a missing 1/n, say)."""
    expected = np.asarray(truth[function], dtype=float).reshape(-1)
    scale = max(float(np.max(np.abs(expected))), 1e-300)
    for mistake, candidate in _gradient_candidates(function, truth, *case):
        candidate = np.asarray(candidate, dtype=float).reshape(-1)
        if mistake == kind and candidate.size == expected.size and np.all(np.isfinite(candidate)) \
                and float(np.max(np.abs(candidate - expected))) / scale <= TOL_GRADIENT:
            return True
    return False


def _descent_same(kind: str, x, y, m, b, lr, epochs) -> bool:
    expected = np.array(_descend(x, y, m, b, lr, epochs))
    for mistake, candidate in _descent_candidates(x, y, m, b, lr, epochs):
        candidate = np.asarray(candidate, dtype=float)
        if mistake == kind and np.all(np.isfinite(candidate)) and float(np.max(np.abs(candidate - expected))) <= TOL_DESCENT:
            return True
    return False


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


# --- `msegrad check NOTEBOOK` --------------------------------------------------------------------

def _code_cells(path: str) -> list[str]:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="msegrad", description="the visible checks of the MSE-gradient exercise")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("check", help="run your notebook's code and the visible checks")
    command.add_argument("notebook", help="your mse_gradient.ipynb")
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
