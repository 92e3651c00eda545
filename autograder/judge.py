"""Deciding the grade from a probe's plain numbers: the trusted half of a check.

Expected values are computed here, live, with torch autograd at float64 on
the same cases the probe ran (rebuilt from the seed). How close a right
answer must be is not a constant: ``autograder.tolerance`` bounds the
rounding error of computing the case's own numbers at the answer's precision
(float32 at the finest, since a widened float32 result looks like float64).
A failing answer is compared with every known mistake, and every pair of
them, on the same inputs, and the feedback names the one it matches. A named
mistake earns its credit from the catalogue (nothing, by default), and a case
it cannot be told apart from the right answer on does not count. Nothing
here runs student code.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from autograder import mistakes as catalogue
from autograder import reference, spec, tolerance
from autograder.cases import DescentCase, GradientCase, descent_cases, gradient_cases, seed_from_env
from autograder.mistakes import (DESCENT_MISTAKES, KIND_SENTENCES, OWN_GRADIENT_SENTENCE, SGD_KIND_SENTENCES,
                                 descend_path, gradient_mistakes)

# Naming a mistake never passes an answer: a wrong answer is named when it is
# within its own float32 rounding of the mistake's numbers (see _explaining).
# sgd's mistakes run other step counts, rates or data than the case; their own
# float32 rounding can be larger than the right run's, so naming allows this much more.
DESCENT_NAME_REL = 1e-4
# Matches this much closer than allowed count as exact: ties between such are not ranked.
EXACT = 1e-3
# A run that should diverge matches a result that is not finite or beyond this size.
DIVERGED = 1e6

# sgd mistakes that take no gradient steps at all.
NO_STEPS = ("unchanged", "closed_form", "hard_coded")

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


@dataclass
class Outcome:
    """One case's verdict."""

    passed: bool
    kind: str | None                  # a mistake id, or a KIND_SENTENCES / FAILURES key; None when passed
    detail: str
    explained: tuple[str, ...] = ()   # the catalogued mistakes whose numbers this failing case matches
    # coincides(mistake_id): whether the right answer and the mistake give the same numbers on
    # this case (within its tolerance), so that passing it says nothing about that mistake.
    coincides: Callable[[str], bool] | None = None


def _fmt(values) -> str:
    array = np.asarray(values, dtype=float).reshape(-1)
    if array.size == 1:
        return f"{array[0]:.6g}"
    shown = ", ".join(f"{v:.4g}" for v in array[:4])
    return f"[{shown}{', ...' if array.size > 4 else ''}] (shape ({array.size},))"


def _within(got: np.ndarray, target: np.ndarray, allowed) -> bool:
    """Same size, non-finite exactly where target is, and |got - target| <= allowed elsewhere."""
    if got.size != target.size:
        return False
    got, target = got.reshape(-1), target.reshape(-1)
    finite = np.isfinite(target)
    if not np.array_equal(finite, np.isfinite(got)):
        return False
    allowed = np.broadcast_to(np.asarray(allowed, dtype=float), target.shape)
    with np.errstate(all="ignore"):
        return bool(np.all(np.abs(got[finite] - target[finite]) <= allowed[finite]))


def _size_of_error(got: np.ndarray, expected: np.ndarray, bound, dtype: str) -> str:
    """'relative error 3.0e-03; float32 rounding allows 1.2e-06 here', at the worst entry."""
    got, expected = got.reshape(-1), expected.reshape(-1)
    bound = np.broadcast_to(np.asarray(bound, dtype=float), expected.shape)
    with np.errstate(all="ignore"):
        worst = int(np.nanargmax(np.abs(got - expected) / bound)) if got.size else 0
    denominator = max(tolerance.REL_FLOOR, abs(got[worst]) + abs(expected[worst]))
    relative = float(tolerance.relative_error(got[worst], expected[worst]))
    return f"relative error {relative:.1e}; {dtype} rounding allows {bound[worst] / denominator:.1e} here"


# --- gradients ----------------------------------------------------------------

def _expected_gradient(function: str, case: GradientCase):
    """(expected float64 array, effective inputs x, y, m, b, y_hat)."""
    x, y, m, b, y_hat = case.effective()
    if function == "dC_dyhat":
        y_hat_t = torch.tensor(y_hat, requires_grad=True)
        reference.mse(y_hat_t, torch.tensor(y)).backward()
        expected = y_hat_t.grad.numpy().copy()
    else:
        grads = reference.autograd_gradients(x, y, m, b)
        expected = np.asarray(grads.dC_dm if function == "dC_dm" else grads.dC_db)
    return np.asarray(expected, dtype=float).reshape(-1), (x, y, m, b, y_hat)


def _values(output: dict):
    """The returned numbers as a float array, or None when they are not all there."""
    values = output.get("values")
    if not isinstance(values, list):
        return None
    try:
        return np.asarray(values, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        return None


def _uses_autograd(probe: dict, records) -> list[str]:
    used = {str(name) for name in probe.get("autograd_names", [])}
    for record in records:
        used.update(str(name) for name in record.get("autograd", []))
        if record.get("output", {}).get("requires_grad"):
            used.add("requires_grad")
    return sorted(used)


def _candidate_groups(function: str, inputs, pairs: bool) -> dict[int, tuple[list[str], np.ndarray, np.ndarray]]:
    """The single mistakes' (or the pairs') numbers on these inputs:
    {size: (ids, values of shape (K, size), how many times the truth's rounding each carries (K,))}."""
    found = (((m.id, m.formula) for m in gradient_mistakes(function)) if not pairs
             else catalogue.mistake_pairs(function))
    n = len(inputs[1])
    groups: dict[int, tuple[list[str], list[np.ndarray], list[float]]] = {}
    with np.errstate(all="ignore"):
        for mistake_id, formula in found:
            try:
                wrong = np.asarray(formula(*inputs, function), dtype=float).reshape(-1)
            except (ValueError, ZeroDivisionError, FloatingPointError, IndexError):
                continue
            ids, rows, factors = groups.setdefault(wrong.size, ([], [], []))
            ids.append(mistake_id)
            rows.append(wrong)
            factors.append(catalogue.rounding_factor(mistake_id, n))
    return {size: (ids, np.stack(rows), np.asarray(factors)) for size, (ids, rows, factors) in groups.items()}


@functools.lru_cache(maxsize=256)
def _gradient_context(function: str, cell_id: str, seed: int, index: int):
    """(expected, inputs, the single mistakes' numbers) of one case: the same for every student, so kept."""
    case = gradient_cases(cell_id, seed)[index]
    expected, inputs = _expected_gradient(function, case)
    return expected, inputs, _candidate_groups(function, inputs, pairs=False)


@functools.lru_cache(maxsize=64)
def _pair_candidates(function: str, cell_id: str, seed: int, index: int):
    """The pairs of mistakes' numbers on one case (searched only when no single mistake explains an answer)."""
    _, inputs, _ = _gradient_context(function, cell_id, seed, index)
    return _candidate_groups(function, inputs, pairs=True)


def _explaining(got: np.ndarray, groups, expected: np.ndarray, bound: np.ndarray, count: int) -> list[str]:
    """The ids of the candidates whose numbers ``got`` matches, in catalogue order (each once).

    A mistake that scales the truth by k carries k times its rounding; any
    mistake may carry the rounding of a float32 sum of ``count`` terms of its
    own size (no cancellation).
    """
    if got.size not in groups:
        return []
    ids, values, factors = groups[got.size]
    with np.errstate(all="ignore"):
        finite = np.isfinite(values)
        room = bound[None, :] if got.size == expected.size else np.max(bound)
        own = tolerance.SAFETY * tolerance.UNIT_ROUNDOFF[tolerance.FINEST_HELD_TO] * count * np.abs(values)
        allowed = np.maximum(room * factors[:, None], own)
        same_pattern = np.all(finite == np.isfinite(got)[None, :], axis=1)
        close = np.where(finite, np.abs(got[None, :] - values) <= allowed, True)
        match = same_pattern & np.all(close, axis=1)
    return list(dict.fromkeys(ids[k] for k in np.flatnonzero(match)))


def _classify_gradient(function: str, cell_id: str, seed: int, index: int, case: GradientCase,
                       record: dict) -> Outcome:
    if "error" in record:
        return _error_outcome(record)
    output = record.get("output", {})
    if output.get("type") == "None":
        return Outcome(False, "returns_none", "returned None")
    if "error" in output or "shape" not in output:
        kind_name = str(output.get("type", "value")).rsplit(".", 1)[-1]
        return Outcome(False, "wrong_type", f"it returned a {kind_name}")
    expected, inputs, singles = _gradient_context(function, cell_id, seed, index)
    dtype = tolerance.precision(case.dtype, output.get("dtype"))
    bound = np.broadcast_to(tolerance.gradient_bound(function, *inputs, dtype), expected.shape)
    n = len(case.y)
    try:
        shape = tuple(int(v) for v in output["shape"])
    except (TypeError, ValueError):
        return Outcome(False, "wrong_type", "it returned something that is not numbers")
    size = int(np.prod(shape)) if shape else 1
    got = _values(output)
    expected_size = n if function == "dC_dyhat" else 1

    def coincides(mistake_id: str) -> bool:
        groups = _pair_candidates(function, cell_id, seed, index) if catalogue.PAIR in mistake_id else singles
        ids, values, _ = groups.get(expected.size, ([], None, None))
        return any(_within(values[k], expected, bound) for k, i in enumerate(ids) if i == mistake_id)

    if got is not None and got.size != size:
        got = None
    if size == expected_size and got is not None and _within(got, expected, bound):
        if function == "dC_dyhat" and shape != (n,) and n > 1:
            return Outcome(False, "shape", f"returned shape {shape}; dC/dy_hat must have y_hat's shape ({n},)",
                           coincides=coincides)
        return Outcome(True, None, _size_of_error(got, expected, bound, dtype), coincides=coincides)
    # Wrong: which known mistakes, or pairs of them, give these numbers on these inputs?
    if got is not None:
        count = n + tolerance.OPERATIONS_PER_TERM
        explained = _explaining(got, singles, expected, bound, count) or \
            _explaining(got, _pair_candidates(function, cell_id, seed, index), expected, bound, count)
        if explained:
            return Outcome(False, explained[0], f"expected {_fmt(expected)}, got {_fmt(got)}",
                           tuple(explained), coincides)
        if not np.all(np.isfinite(got)):
            return Outcome(False, "not_finite", f"returned {_fmt(got)}", coincides=coincides)
    if size == n * n and n > 1:
        return Outcome(False, "broadcast_n_by_n", f"returned shape {shape}, an n x n matrix", coincides=coincides)
    if size != expected_size:
        want = f"({n},)" if function == "dC_dyhat" else "a single number"
        if function != "dC_dyhat" and size == n:
            return Outcome(False, "per_instance", f"returned shape {shape}, expected {want}", coincides=coincides)
        if function == "dC_dyhat" and size == 1:
            return Outcome(False, "summed_over_instances", f"returned one number, expected shape {want}",
                           coincides=coincides)
        return Outcome(False, "shape", f"returned shape {shape}, expected {want}", coincides=coincides)
    if got is None:
        return Outcome(False, "shape", f"returned shape {shape} without its values", coincides=coincides)
    return Outcome(False, "unknown", f"expected {_fmt(expected)}, got {_fmt(got)} "
                   f"({_size_of_error(got, expected, bound, dtype)})", coincides=coincides)


def _error_outcome(record: dict) -> Outcome:
    """A failing Outcome for a call that raised or ran out of time."""
    error = str(record["error"])
    if record.get("timeout"):
        return Outcome(False, "timeout", error.removeprefix("timeout: "))
    if error.startswith("NotImplementedError"):
        return Outcome(False, "not_implemented", error)
    if error.startswith("MemoryError") or "can't allocate memory" in error or "not enough memory" in error:
        return Outcome(False, "memory", error)
    return Outcome(False, "error", error)


def _sentence(function: str, kind: str) -> str:
    name = NAMES[function]
    text = catalogue.sentence_of(kind, function)
    if text is not None:
        return f"{name} {text}"
    if function == "sgd" and kind in SGD_KIND_SENTENCES:
        return f"{name} {SGD_KIND_SENTENCES[kind]}"
    if kind in KIND_SENTENCES:
        return f"{name} {KIND_SENTENCES[kind]}"
    return f"{name} {FAILURES.get(kind, KIND_SENTENCES['unknown'])}"


def sentence(function: str, kind: str) -> str:
    """The judge's sentence for a kind of failure of `function` (docs/assignments.md)."""
    return _sentence(function, kind)


def _named_mistake(outcomes: list[Outcome]) -> str | None:
    """The catalogued mistake (or pair) that explains the most failing cases; None when none does."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        if not outcome.passed:
            for mistake_id in outcome.explained:
                counts[mistake_id] = counts.get(mistake_id, 0) + 1
    if not counts:
        return None
    # Most cases first; then a single mistake before a pair; then the order they were found in.
    order = list(counts)
    best = max(order, key=lambda k: (counts[k], catalogue.PAIR not in k, -order.index(k)))
    # It must explain as many failing cases as any other kind of failure (a division by zero
    # that also matches n - 1 at n = 1 is a division by zero).
    others = [o.kind for o in outcomes if not o.passed and not o.explained]
    if others and max(others.count(k) for k in set(others)) > counts[best]:
        return None
    return best


def _summarise(cell: spec.GradeCell, cases, outcomes: list[Outcome], what: str, note: str = "") -> CheckResult:
    """Points from the cases that count; the message names the mistake that explains the most failures.

    A case where the right answer and the named mistake give the same numbers
    cannot tell them apart: passing it earns nothing, and it does not count.
    A case the named mistake explains earns catalogue.credit(mistake) (0 unless
    set), so an answer whose every failure is one catalogued mistake scores
    what the catalogue says; an answer right on some informative cases keeps
    that part.
    """
    total = len(outcomes)
    details = [f"{'ok  ' if o.passed else 'FAIL'} {case.label}: {o.detail}" for case, o in zip(cases, outcomes)]
    tail = f" {note}" if note else ""
    if all(o.passed for o in outcomes):
        return CheckResult(cell.id, float(cell.points), cell.points,
                           f"{NAMES[cell.function]} {what} on all {total} cases.{tail}", None, details)
    named = _named_mistake(outcomes)
    if named is not None:
        counted = [o for o in outcomes if not (o.passed and o.coincides is not None and o.coincides(named))]
        earned = sum(1.0 if o.passed else catalogue.credit(named) if named in o.explained else 0.0 for o in counted)
        points = round(cell.points * earned / len(counted), 2)
        passed = sum(1 for o in counted if o.passed)
        dropped = total - len(counted)
        # Shown: a failing case it explains, one with three points or more when there is one.
        case, outcome = min(((c, o) for c, o in zip(cases, outcomes) if not o.passed and named in o.explained),
                            key=lambda pair: len(pair[0].x) < 3)
        count = f"{passed}/{len(counted)} cases pass"
        if dropped:
            count += (f" ({dropped} more cannot tell this mistake from the right answer and "
                      f"{'do' if dropped > 1 else 'does'} not count)")
        message = f"{count}. {_sentence(cell.function, named)} ({outcome.detail}, on {case.label}.){tail}"
        return CheckResult(cell.id, points, cell.points, message, named, details)
    passed = sum(1 for o in outcomes if o.passed)
    points = round(cell.points * passed / total, 2) if total else 0.0
    failures = [(case, o) for case, o in zip(cases, outcomes) if not o.passed]
    kinds = [o.kind for _, o in failures]
    kind = max(set(kinds), key=lambda k: (kinds.count(k), -kinds.index(k)))
    case, outcome = next(f for f in failures if f[1].kind == kind)
    detail = outcome.detail
    sentence = _sentence(cell.function, kind)
    forms = {c.form for c, _ in failures}
    where = f"on {case.label}"
    if passed and len(forms) == 1 and kind in ("error", "wrong_type", "shape"):
        where = f"when m and b are {forms.pop()}s (e.g. {case.label})"
    if kind in ("not_implemented", "missing"):
        message = sentence
    elif kind == "returns_none":
        message = f"{passed}/{total} cases pass. {sentence} (on {case.label}.)"
    elif kind in KIND_SENTENCES or kind in SGD_KIND_SENTENCES:
        message = f"{passed}/{total} cases pass. {sentence}: {detail}, {where}."
    else:
        message = f"{passed}/{total} cases pass. {sentence} ({detail}, {where}.)"
    return CheckResult(cell.id, points, cell.points, message + tail, kind, details)


def _padded(probe: dict, cases) -> list[dict]:
    """The probe's records, one per case: a probe cut short by a timeout stops the remaining calls."""
    records = [r if isinstance(r, dict) else {"error": "the probe's record is not readable"}
               for r in list(probe.get("cases", []))[:len(cases)]]
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
    seed = seed_from_env(seed)
    outcomes = [_classify_gradient(cell.function, cell.id, seed, index, case, record)
                for index, (case, record) in enumerate(zip(cases, records))]
    return _summarise(cell, cases, outcomes, "matches autograd")


# --- gradient descent ----------------------------------------------------------

def _pair_of(record: dict):
    """The record's (m, b) as a float array of 2, or None when it is not that."""
    pair = record.get("pair")
    if not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(v, (int, float)) for v in pair):
        return None
    return np.asarray(pair, dtype=float)


def _pair_dtypes(record: dict) -> list[str]:
    """The dtype the probe read sgd's (m, b) in (the coarser of the two), as a list of at most one."""
    output = record.get("output")
    dtype = output.get("dtype") if isinstance(output, dict) else None
    return [dtype] if isinstance(dtype, str) else []


def _close_pair(got: np.ndarray, target, allowed: float) -> bool:
    target = np.asarray(target, dtype=float)
    if not np.all(np.isfinite(target)):
        return bool(np.all(~np.isfinite(got) | (np.abs(got) > DIVERGED)))
    if not np.all(np.isfinite(got)):
        return False
    return bool(np.max(np.abs(got - target)) <= allowed)


# Each descent case's inputs, reference run, bounds and mistakes' results: the same for every
# student (the cases are kept per seed), so kept too, keyed by the case itself.
_DESCENT_CONTEXTS: dict[int, tuple[DescentCase, dict]] = {}
DESCENT_CONTEXTS_KEPT = 256


def _descent_context(case: DescentCase) -> dict:
    """{"inputs": (x, y, m, b), "path": (m_path, b_path), "bounds": {dtype: bound},
    "variants": {mistake id: (m, b)}} of one case; bounds and variants fill in as they are needed."""
    entry = _DESCENT_CONTEXTS.get(id(case))
    if entry is not None and entry[0] is case:     # the entry holds the case: its id is not reused
        return entry[1]
    if len(_DESCENT_CONTEXTS) >= DESCENT_CONTEXTS_KEPT:
        _DESCENT_CONTEXTS.clear()
    x, y, m, b = case.effective()
    context = {"inputs": (x, y, m, b), "path": descend_path(x, y, m, b, case.lr, case.epochs),
               "bounds": {}, "variants": {}}
    _DESCENT_CONTEXTS[id(case)] = (case, context)
    return context


def _classify_descent(case: DescentCase, record: dict) -> Outcome:
    if "error" in record:
        return _error_outcome(record)
    got = _pair_of(record)
    if got is None:
        output = record.get("output", {}) if isinstance(record.get("output"), dict) else {}
        length = output.get("length")
        if isinstance(length, int) and not isinstance(length, bool):
            return Outcome(False, "pair_length", f"returned {length} value{'s' if length != 1 else ''}; "
                                                 f"return (m, b)")
        if output.get("type") == "None":
            return Outcome(False, "returns_none", "returned None")
        kind_name = str(output.get("type", "something else")).rsplit(".", 1)[-1]
        return Outcome(False, "wrong_type", f"returned a {kind_name}; return (m, b)")
    context = _descent_context(case)
    x, y, m, b = context["inputs"]
    dtype = tolerance.precision(case.dtype, *_pair_dtypes(record))
    m_path, b_path = context["path"]
    expected = np.array([m_path[-1], b_path[-1]])
    bounds = context["bounds"]
    if dtype not in bounds:
        bounds[dtype] = tolerance.run_bound(x, y, m_path, b_path, case.lr, dtype)
    bound = bounds[dtype]
    variants: dict[str, np.ndarray] = context["variants"]

    def variant(mistake) -> np.ndarray:
        if mistake.id not in variants:
            with np.errstate(all="ignore"):
                variants[mistake.id] = np.asarray(mistake.variant(case, x, y, m, b), dtype=float)
        return variants[mistake.id]

    def coincides(mistake_id: str) -> bool:
        return any(_close_pair(variant(mistake), expected, bound)
                   for mistake in DESCENT_MISTAKES if mistake.id == mistake_id)

    if _close_pair(got, expected, bound):
        return Outcome(True, None, f"(m, b) = ({got[0]:.7g}, {got[1]:.7g})", coincides=coincides)
    detail = f"expected (m, b) = ({expected[0]:.7g}, {expected[1]:.7g}), got ({got[0]:.7g}, {got[1]:.7g})"
    explained: dict[str, float] = {}   # mistake id -> how close (error / allowed)
    for mistake in DESCENT_MISTAKES:
        wrong = variant(mistake)
        allowed = max(bound, DESCENT_NAME_REL * (1.0 + float(np.max(np.abs(wrong)))))
        if mistake.id not in explained and _close_pair(got, wrong, allowed):
            with np.errstate(all="ignore"):
                closeness = float(np.nan_to_num(np.max(np.abs(got - wrong)) / allowed, nan=1.0))
            explained[mistake.id] = closeness
    if explained:
        # Closest first; mistakes that give the same numbers here (1000 steps from a stable
        # start reach the least-squares line, say) keep the catalogue's order.
        ranked = tuple(sorted(explained, key=lambda k: max(explained[k], EXACT)))
        return Outcome(False, ranked[0], detail, ranked, coincides)
    if not np.all(np.isfinite(got)):
        return Outcome(False, "not_finite", detail, coincides=coincides)
    size = float(tolerance.relative_error(got, expected).max())
    allowed = bound / max(tolerance.REL_FLOOR, float(np.max(np.abs(got) + np.abs(expected))))
    steps = f"{case.epochs} step{'' if case.epochs == 1 else 's'}"
    return Outcome(False, "unknown", f"{detail} (relative error {size:.1e}; {dtype} rounding over {steps} "
                                     f"allows {allowed:.1e} here)", coincides=coincides)


def _gradient_calls(record: dict, name: str) -> int | None:
    calls = record.get("gradient_calls")
    if not isinstance(calls, dict):
        return None
    value = calls.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _own_gradient_note(cases, records) -> str:
    """The note for an sgd that never called the student's dC_dm or dC_db on a run that took steps."""
    ran = [r for c, r in zip(cases, records) if c.epochs > 0 and "error" not in r and _pair_of(r) is not None]
    if not ran:
        return ""
    never = [name for name in ("dC_dm", "dC_db") if all(_gradient_calls(r, name) == 0 for r in ran)]
    return OWN_GRADIENT_SENTENCE.format(names=" and ".join(never)) if never else ""


def _judge_descent_cell(cell: spec.GradeCell, probe: dict, seed) -> CheckResult:
    cases = descent_cases(cell.id, seed)
    records = _padded(probe, cases)
    used = sorted({str(name) for r in records for name in r.get("autograd", [])}
                  | {str(name) for name in probe.get("autograd_names", [])})
    if used:
        # sgd is never compared with autograd, so its words do not say it: the names are what the code used.
        names = sorted({"automatic differentiation" if name == "autograd" else name.rsplit(".", 1)[-1]
                        for name in used})
        return CheckResult(cell.id, 0.0, cell.points,
                           f"{_sentence('sgd', 'autograd')} (found: {', '.join(names)}).", "autograd")
    outcomes = [_classify_descent(case, record) for case, record in zip(cases, records)]
    # An sgd that does not descend at all computes no gradient, its own or any.
    note = "" if _named_mistake(outcomes) in NO_STEPS else _own_gradient_note(cases, records)
    if cell.id == "sgd_cost_decreases":
        return _judge_cost_decreases(cell, cases, records, outcomes, note)
    what = "follows the reference path" if cell.id == "sgd_first_steps" else "reaches the expected parameters"
    return _summarise(cell, cases, outcomes, what, note)


def _judge_cost_decreases(cell, cases, records, outcomes: list[Outcome], note: str) -> CheckResult:
    """All or nothing: each epoch is one gradient-descent step from where the previous one ended,
    starting where it was given, and C falls at every epoch."""
    tail = f" {note}" if note else ""
    bad = next(((case, o) for case, o in zip(cases, outcomes)
                if not o.passed and not o.explained and o.kind not in ("unknown", "not_finite")), None)
    if bad is not None:
        case, outcome = bad
        message = _sentence("sgd", outcome.kind)
        if outcome.kind not in ("not_implemented", "missing"):
            message += f": {outcome.detail}, on {case.label}."
        return CheckResult(cell.id, 0.0, cell.points, message + tail, outcome.kind)
    x, y, m, b = cases[0].effective()
    lr = cases[0].lr
    pairs = [_pair_of(record) for record in records]
    dtype = tolerance.precision(cases[0].dtype, *(d for record in records for d in _pair_dtypes(record)))
    details, costs, bad_step = [], [], None
    with np.errstate(all="ignore"):
        for k, (case, got) in enumerate(zip(cases, pairs)):
            if k == 0:
                expected = np.array([m, b])
                allowed = np.full(2, tolerance.run_bound(x, y, [m], [b], lr, dtype))
            else:
                previous = pairs[k - 1]
                m_path, b_path = reference.descent_path(x, y, previous[0], previous[1], lr, 1)
                expected = np.array([m_path[-1], b_path[-1]])
                allowed = np.array(tolerance.step_bound(x, y, previous[0], previous[1], lr, dtype), dtype=float)
            ok = bool(np.all(np.isfinite(got)) and np.all(np.abs(got - expected) <= allowed))
            cost = float(reference.cost(torch.tensor(x), torch.tensor(y), float(got[0]), float(got[1])))
            details.append(f"{'ok  ' if ok else 'FAIL'} epochs={case.epochs}: (m, b) = ({got[0]:.7g}, {got[1]:.7g}), "
                           f"C = {cost:.6g}")
            if not ok and bad_step is None:
                bad_step = (k, expected, got)
            costs.append(cost)
    rises = [k for k in range(1, len(costs)) if not costs[k] < costs[k - 1]]
    if bad_step is None and not rises:
        return CheckResult(cell.id, float(cell.points), cell.points,
                           f"sgd: every epoch is one gradient-descent step and the cost falls at each "
                           f"({costs[0]:.4g} -> {costs[-1]:.4g} over {cases[-1].epochs} epochs).{tail}",
                           None, details)
    named = _named_mistake(outcomes)
    why = f" {_sentence('sgd', named)}" if named else ""
    if bad_step is not None:
        k, expected, got = bad_step
        numbers = f"(expected ({expected[0]:.7g}, {expected[1]:.7g}), got ({got[0]:.7g}, {got[1]:.7g}))"
        if k == 0:
            message = (f"sgd does not take gradient-descent steps: with epochs=0 it should return the start it "
                       f"was given {numbers}.")
        else:
            where = "the start" if k == 1 else f"where {k - 1} epochs ended"
            message = (f"sgd does not take gradient-descent steps: after {k} epoch{'s' if k > 1 else ''}, (m, b) "
                       f"is not one gradient step from {where} {numbers}.")
        return CheckResult(cell.id, 0.0, cell.points, message + why + tail, named or "not_descent", details)
    k = rises[0]
    return CheckResult(cell.id, 0.0, cell.points,
                       f"sgd: the cost does not fall at every epoch: C = {costs[k - 1]:.6g} after {k - 1} "
                       f"epochs, {costs[k]:.6g} after {k}.{why}{tail}", named or "cost_rises", details)


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
