"""Deciding the grade from a probe's plain numbers: the trusted half of a check.

Expected values are computed here, live, with torch autograd at float64 on
the same cases the probe ran (rebuilt from the seed). A failing answer is
compared with every known mistake on the same inputs, and the feedback names
the one it matches. Nothing here runs student code.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from autograder import reference, spec
from autograder.cases import DescentCase, GradientCase, descent_cases, gradient_cases
from autograder.mistakes import DESCENT_MISTAKES, KIND_SENTENCES, descend, gradient_mistakes

# Tolerances on the relative error max|got - expected| / scale, where scale is
# the size of the terms summed (so cancellation cannot fail a right answer).
# float64 inputs: rounding over a few hundred terms stays near 1e-14; 1e-7
# leaves room for any summation order and still rejects every catalogued mistake.
TOL_FLOAT64 = 1e-7
# float32 inputs: machine epsilon 6e-8, sums of up to 257 terms.
TOL_FLOAT32 = 1e-4
# sgd on float64 data: 1000 steps of accumulated rounding stay below 1e-10;
# one step more or less changes the result by far more than 1e-6.
TOL_DESCENT_FLOAT64 = 1e-6
# The lecture's float32 run: it reports 4 decimals; float32 over 1001 steps
# drifts by about 1e-6.
TOL_DESCENT_FLOAT32 = 1e-4

NAMES = {"dC_dyhat": "dC/dy_hat", "dC_dm": "dC/dm", "dC_db": "dC/db", "sgd": "sgd"}


@dataclass
class CheckResult:
    cell_id: str
    points: float
    max_points: float
    message: str
    mistake: str | None = None
    details: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.points >= self.max_points


def _points(passed: int, total: int, max_points: float) -> float:
    return round(max_points * passed / total, 2) if total else 0.0


def _fmt(values) -> str:
    array = np.asarray(values, dtype=float).reshape(-1)
    if array.size == 1:
        return f"{array[0]:.6g}"
    shown = ", ".join(f"{v:.4g}" for v in array[:4])
    return f"[{shown}{', ...' if array.size > 4 else ''}] (shape ({array.size},))"


# --- gradients ----------------------------------------------------------------

def _expected_gradient(function: str, case: GradientCase):
    """(expected float64 array or float, scale of its terms, effective inputs)."""
    x, y, m, b, y_hat = case.effective()
    if function == "dC_dyhat":
        y_hat_t = torch.tensor(y_hat, requires_grad=True)
        reference.mse(y_hat_t, torch.tensor(y)).backward()
        expected = y_hat_t.grad.numpy().copy()
        scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    else:
        grads = reference.autograd_gradients(x, y, m, b)
        expected = grads.dC_dm if function == "dC_dm" else grads.dC_db
        terms = 2.0 * np.abs(y_hat - y) * (np.abs(x) if function == "dC_dm" else 1.0) / len(y)
        scale = float(np.sum(terms))
    return expected, scale, (x, y, m, b, y_hat)


def _relative(got: np.ndarray, expected, scale: float) -> float:
    expected = np.asarray(expected, dtype=float).reshape(-1)
    got = np.asarray(got, dtype=float).reshape(-1)
    if got.shape != expected.shape:
        return math.inf
    if not np.all(np.isfinite(got)):
        return math.inf
    denominator = max(scale, float(np.max(np.abs(expected))) if expected.size else 0.0, 1e-300)
    return float(np.max(np.abs(got - expected))) / denominator if got.size else 0.0


def _values(output: dict, expected_size: int):
    """The returned numbers as a float array, or None when they are not all there."""
    values = output.get("values")
    if values is None:
        return None
    return np.asarray(values, dtype=float)


def _uses_autograd(probe: dict, records) -> list[str]:
    used = set(probe.get("autograd_names", []))
    for record in records:
        used.update(record.get("autograd", []))
        if record.get("output", {}).get("requires_grad"):
            used.add("requires_grad")
    return sorted(used)


def _classify_gradient(function: str, case: GradientCase, record: dict, tolerance: float):
    """(passed, kind, detail). kind is a mistake id, or a KIND_SENTENCES key."""
    if "error" in record:
        return _error_outcome(record)
    output = record.get("output", {})
    if output.get("type") == "None":
        return False, "returns_none", "returned None"
    if "error" in output or "shape" not in output:
        kind_name = output.get("type", "value").rsplit(".", 1)[-1]
        return False, "wrong_type", f"it returned a {kind_name}"
    expected, scale, inputs = _expected_gradient(function, case)
    n = len(case.y)
    shape = tuple(output["shape"])
    size = int(np.prod(shape)) if shape else 1
    got = _values(output, size)
    if got is not None and not np.all(np.isfinite(got)):
        return False, "not_finite", f"returned {_fmt(got)}"
    expected_size = n if function == "dC_dyhat" else 1
    if size == expected_size and got is not None:
        error = _relative(got, expected, scale)
        if error <= tolerance:
            if function == "dC_dyhat" and shape != (n,) and n > 1:
                return False, "shape", f"returned shape {shape}; dC/dy_hat must have y_hat's shape ({n},)"
            return True, None, f"relative error {error:.1e}"
    # Wrong: which known mistake gives these numbers on these inputs?
    for mistake in gradient_mistakes(function):
        candidate = np.asarray(mistake.formula(*inputs, function), dtype=float).reshape(-1)
        if got is not None and candidate.size == got.size and _relative(got, candidate, scale) <= tolerance:
            return False, mistake.id, f"expected {_fmt(expected)}, got {_fmt(got)}"
    if size == n * n and n > 1:
        return False, "broadcast_n_by_n", f"returned shape {shape}, an n x n matrix"
    if size != expected_size:
        want = f"({n},)" if function == "dC_dyhat" else "a single number"
        if function != "dC_dyhat" and size == n:
            return False, "per_instance", f"returned shape {shape}, expected {want}"
        if function == "dC_dyhat" and size == 1:
            return False, "summed_over_instances", f"returned one number, expected shape {want}"
        return False, "shape", f"returned shape {shape}, expected {want}"
    return False, "unknown", f"expected {_fmt(expected)}, got {_fmt(got)} (relative error {_relative(got, expected, scale):.1e})"


def _error_outcome(record: dict):
    """(False, kind, detail) for a call that raised or ran out of time."""
    error = record["error"]
    if record.get("timeout"):
        return False, "timeout", error.removeprefix("timeout: ")
    if error.startswith("NotImplementedError"):
        return False, "not_implemented", error
    if error.startswith("MemoryError") or "can't allocate memory" in error or "not enough memory" in error:
        return False, "memory", error
    return False, "error", error


def _sentence(function: str, kind: str) -> str:
    name = NAMES[function]
    for mistake in gradient_mistakes(function):
        if mistake.id == kind:
            return f"{name} {mistake.sentence}"
    for mistake in DESCENT_MISTAKES:
        if mistake.id == kind:
            return f"{name} {mistake.sentence}"
    if kind in KIND_SENTENCES:
        return f"{name} {KIND_SENTENCES[kind]}"
    return f"{name} {FAILURES.get(kind, KIND_SENTENCES['unknown'])}"


def _summarise(cell: spec.GradeCell, cases, outcomes, what: str) -> CheckResult:
    """Points from the passing fraction; the message names the most common mistake."""
    passed = sum(1 for ok, _, _ in outcomes if ok)
    total = len(outcomes)
    points = _points(passed, total, cell.points)
    details = [f"{'ok  ' if ok else 'FAIL'} {case.label}: {detail}"
               for case, (ok, _, detail) in zip(cases, outcomes)]
    if passed == total:
        return CheckResult(cell.id, points, cell.points,
                           f"{NAMES[cell.function]} {what} on all {total} cases.", None, details)
    failures = [(case, kind, detail) for case, (ok, kind, detail) in zip(cases, outcomes) if not ok]
    kinds = [kind for _, kind, _ in failures]
    kind = max(set(kinds), key=lambda k: (kinds.count(k), -kinds.index(k)))
    case, _, detail = next(f for f in failures if f[1] == kind)
    sentence = _sentence(cell.function, kind)
    forms = {c.form for c, _, _ in failures}
    where = f"on {case.label}"
    if passed and len(forms) == 1 and kind in ("error", "wrong_type", "shape"):
        where = f"when m and b are {forms.pop()}s (e.g. {case.label})"
    if kind in ("not_implemented", "missing"):
        message = sentence
    elif kind == "returns_none":
        message = f"{passed}/{total} cases pass. {sentence} (on {case.label}.)"
    elif kind in KIND_SENTENCES:
        message = f"{passed}/{total} cases pass. {sentence}: {detail}, {where}."
    else:
        message = f"{passed}/{total} cases pass. {sentence} ({detail}, {where}.)"
    return CheckResult(cell.id, points, cell.points, message, kind, details)


def _padded(probe: dict, cases) -> list[dict]:
    """The probe's records, one per case: a probe cut short by a timeout stops the remaining calls."""
    records = list(probe.get("cases", []))
    missing = len(cases) - len(records)
    return records + [{"error": "timeout: not run, an earlier call timed out", "timeout": True}] * max(0, missing)


def _judge_gradient_cell(cell: spec.GradeCell, probe: dict, seed) -> CheckResult:
    cases = gradient_cases(cell.id, seed)
    records = _padded(probe, cases)
    used = _uses_autograd(probe, records)
    if used:
        return CheckResult(cell.id, 0.0, cell.points,
                           f"{_sentence(cell.function, 'autograd')} (found: {', '.join(used)}). "
                           f"Write the formula from the derivation instead.", "autograd")
    outcomes = []
    for case, record in zip(cases, records):
        tolerance = TOL_FLOAT32 if case.dtype == "float32" else TOL_FLOAT64
        outcomes.append(_classify_gradient(cell.function, case, record, tolerance))
    return _summarise(cell, cases, outcomes, "matches autograd")


# --- gradient descent ----------------------------------------------------------

def _descent_error(got, expected, case: DescentCase) -> float:
    got = np.asarray(got, dtype=float)
    expected = np.asarray(expected, dtype=float)
    if not np.all(np.isfinite(expected)):
        return 0.0 if np.all(~np.isfinite(got) | (np.abs(got) > 1e6)) else math.inf
    if not np.all(np.isfinite(got)):
        return math.inf
    if case.dtype == "float32":
        return float(np.max(np.abs(got - expected)))
    return float(np.max(np.abs(got - expected)) / max(1.0, float(np.max(np.abs(expected)))))


def _classify_descent(case: DescentCase, record: dict):
    if "error" in record:
        return _error_outcome(record)
    if "pair" not in record:
        output = record.get("output", {})
        if output.get("type") == "None":
            return False, "returns_none", "returned None"
        return False, "wrong_type", f"returned {output.get('type', 'something else')}; return the pair (m, b)"
    got = record["pair"]
    x, y, m, b = case.effective()
    expected = descend(x, y, m, b, case.lr, case.epochs)
    tolerance = TOL_DESCENT_FLOAT32 if case.dtype == "float32" else TOL_DESCENT_FLOAT64
    error = _descent_error(got, expected, case)
    if error <= tolerance:
        return True, None, f"(m, b) = ({got[0]:.7g}, {got[1]:.7g})"
    detail = f"expected (m, b) = ({expected[0]:.7g}, {expected[1]:.7g}), got ({got[0]:.7g}, {got[1]:.7g})"
    for mistake in DESCENT_MISTAKES:
        candidate = mistake.variant(case, x, y, m, b)
        if candidate is not None and _descent_error(got, candidate, case) <= tolerance:
            return False, mistake.id, detail
    if not np.all(np.isfinite(got)):
        return False, "not_finite", detail
    return False, "unknown", detail


def _judge_descent_cell(cell: spec.GradeCell, probe: dict, seed) -> CheckResult:
    cases = descent_cases(cell.id, seed)
    records = _padded(probe, cases)
    used = sorted({name for r in records for name in r.get("autograd", [])} | set(probe.get("autograd_names", [])))
    if used:
        return CheckResult(cell.id, 0.0, cell.points,
                           f"sgd uses autograd (found: {', '.join(used)}): update m and b with the gradients from "
                           f"your own dC_dm and dC_db.", "autograd")
    outcomes = [_classify_descent(case, record) for case, record in zip(cases, records)]
    if cell.id == "sgd_cost_decreases":
        return _judge_cost_decreases(cell, cases, records, outcomes)
    what = "follows the reference path" if cell.id == "sgd_first_steps" else "reaches the expected parameters"
    return _summarise(cell, cases, outcomes, what)


def _judge_cost_decreases(cell, cases, records, outcomes) -> CheckResult:
    """All or nothing: C at epochs 0, 1, ..., K must fall at every epoch."""
    bad = next(((case, kind, detail) for case, (ok, kind, detail) in zip(cases, outcomes)
                if kind in KIND_SENTENCES and kind != "unknown"), None)
    if bad is not None:
        case, kind, detail = bad
        message = _sentence("sgd", kind)
        if kind not in ("not_implemented", "missing"):
            message += f": {detail}, on {case.label}."
        return CheckResult(cell.id, 0.0, cell.points, message, kind)
    costs = []
    for case, record in zip(cases, records):
        x, y, _, _ = case.effective()
        costs.append(float(reference.cost(torch.tensor(x), torch.tensor(y), *record["pair"])))
    rises = [k for k in range(1, len(costs)) if not costs[k] < costs[k - 1]]
    details = [f"epochs={case.epochs}: C = {c:.6g}" for case, c in zip(cases, costs)]
    if not rises:
        return CheckResult(cell.id, cell.points, cell.points,
                           f"sgd: the cost falls at every epoch ({costs[0]:.4g} -> {costs[-1]:.4g} "
                           f"over {cases[-1].epochs} epochs).", None, details)
    kinds = [kind for ok, kind, _ in outcomes if not ok]
    named = next((k for k in kinds if k != "unknown"), None)
    k = rises[0]
    why = f" {_sentence('sgd', named)}" if named else ""
    return CheckResult(cell.id, 0.0, cell.points,
                       f"sgd: the cost does not fall at every epoch: C = {costs[k - 1]:.6g} after {k - 1} "
                       f"epochs, {costs[k]:.6g} after {k}.{why}", named or "cost_rises", details)


# --- entry points ------------------------------------------------------------------

FAILURES = {
    "timeout": "ran out of time (an endless loop, or one that ignores interrupts?)",
    "crash": "crashed the Python process (a segmentation fault or abort)",
    "memory": "used more memory than allowed",
    "killed": "was killed (it ignored the time limit or used too much CPU)",
    "exit": "ended the process (os._exit or sys.exit) instead of returning",
    "output": "printed far too much output",
    "error": "could not be run",
}


def judge_cell(cell_id: str, probe: dict | None, failure: str | None = None,
               seed: int | None = None) -> CheckResult:
    """One grade cell's result from its probe (or from why there is none)."""
    cell = spec.CELLS_BY_ID[cell_id]
    name = NAMES[cell.function]
    if failure is not None or probe is None:
        why = FAILURES.get(failure or "error", failure)
        return CheckResult(cell.id, 0.0, cell.points, f"{name} {why}; no points for {cell.id}.",
                           failure or "error")
    if "missing" in probe:
        return CheckResult(cell.id, 0.0, cell.points,
                           f"{probe['missing']}: {KIND_SENTENCES['missing'].split(': ', 1)[1]}", "missing")
    if cell.function == "sgd":
        return _judge_descent_cell(cell, probe, seed)
    return _judge_gradient_cell(cell, probe, seed)


def judge_function(function: str, probe: dict | None, failure: str | None = None,
                   seed: int | None = None) -> list[CheckResult]:
    """All grade cells of one function; ``probe`` is probes.probe_function's dict."""
    return [judge_cell(cell.id, None if probe is None else probe.get(cell.id), failure, seed)
            for cell in spec.cells_for(function)]


def descent_paths(sgd_probe: dict | None, seed: int | None = None) -> dict | None:
    """The student's and the reference's (m, b) after epochs 0, 1, ..., K (sgd_cost_decreases's calls).

    Returns {"x", "y", "lr", "student": [[m, b], ...], "reference": [[m, b], ...]}
    with the student's path cut at the first call that did not return a pair;
    None when there is nothing to draw.
    """
    if not sgd_probe:
        return None
    probe = sgd_probe.get("sgd_cost_decreases", sgd_probe)
    records = probe.get("cases") if isinstance(probe, dict) else None
    if not records:
        return None
    cases = descent_cases("sgd_cost_decreases", seed)
    student = []
    for record in records:
        if "pair" not in record:
            break
        student.append([float(v) for v in record["pair"]])
    x, y, m, b = cases[0].effective()
    path = reference.descent(x, y, m, b, lr=cases[0].lr, epochs=cases[-1].epochs)
    return {"x": x.tolist(), "y": y.tolist(), "lr": cases[0].lr, "student": student,
            "reference": np.stack([path.m, path.b], axis=1).tolist()}
