"""Assignment 2's judge: every point decided from a probe's plain numbers (trusted side).

The truth is live torch autograd at float64 (``reference.autograd_gradients``)
on the inputs as the student saw them (rounded through the case's dtype),
the reference's float64 mini-batch run with the same generator, and the
Hessian's eigenvalues. A right answer may differ from it by the worst-case
rounding of computing the case's own numbers at float32 (the bounds below,
built like ``autograder.tolerance``'s), so an honest float32 answer keeps
every point. A failing answer is compared with the catalogue
(``mistakes``); a named mistake earns nothing for its cell and the feedback
names it. minibatch_sgd runs with stand-ins for grad_w and grad_b (no double
penalty); where its path leaves the reference's, the stand-ins' records say
whether the order, the batch size or the update went wrong. Nothing here
runs student code.
"""
from __future__ import annotations

import functools

import numpy as np

from autograder import tolerance
from autograder.assignments.mse_gradient_vector import cases as case_inputs
from autograder.assignments.mse_gradient_vector import mistakes as catalogue
from autograder.assignments.mse_gradient_vector import reference, spec
from autograder.judge import FAILURES, CheckResult, Outcome, _error_outcome, _fmt, _padded, _values, _within

# The precision every answer is held to (tolerance.FINEST_HELD_TO: a float32 result widened to float64
# does not show it). Its unit roundoff, and the roundings around each sum (tolerance's constants).
HELD_TO = tolerance.FINEST_HELD_TO
U = tolerance.UNIT_ROUNDOFF[HELD_TO]
TINY = tolerance.SMALLEST_NORMAL[HELD_TO]
SAFETY = tolerance.SAFETY
OPERATIONS_PER_TERM = tolerance.OPERATIONS_PER_TERM
OPERATIONS_PER_STEP = tolerance.OPERATIONS_PER_STEP
# Naming a descent mistake allows this much relative room beyond the run's rounding (its run takes
# other steps than the right one, whose rounding bound it does not share); as assignment 1's.
DESCENT_NAME_REL = 1e-4
# A run that should diverge matches a result that is not finite or beyond this size.
DIVERGED = 1e6
NAMES = spec.NAMES


def _sentence(function: str, kind: str) -> str:
    name = NAMES[function]
    text = catalogue.sentence_of(kind, function)
    if text is None and function == "minibatch_sgd":
        text = catalogue.SGD_KIND_SENTENCES.get(kind)
    if text is None and function == "max_stable_lr":
        text = catalogue.RATE_KIND_SENTENCES.get(kind)
    if text is None:
        text = catalogue.KIND_SENTENCES.get(kind) or FAILURES.get(kind) or catalogue.KIND_SENTENCES["unknown"]
    return f"{name} {text}"


def sentence(function: str, kind: str) -> str:
    """The feedback's sentence for a mistake or kind of failure of ``function``."""
    return _sentence(function, kind)


# --- rounding bounds -------------------------------------------------------------------------------

def gradient_bound(function: str, X, y, w, b) -> np.ndarray:
    """The largest |got - truth| a right answer computed at float32 can show: (d,) for grad_w, one for grad_b.

    Each component is a sum over n instances of terms built from a dot product of d products, so it
    carries u (n + d + OPERATIONS_PER_TERM) times the sum of its terms' sizes (no cancellation assumed).
    """
    n, d = X.shape
    count = n + d + OPERATIONS_PER_TERM
    terms = np.abs(X) @ np.abs(w) + abs(b) + np.abs(y)
    sizes = 2.0 * (np.abs(X).T @ terms if function == "grad_w" else np.sum(terms)) / n
    return SAFETY * count * (U * np.asarray(sizes, dtype=float) + TINY)


def rate_bound(X) -> float:
    """The largest |got - truth| of 2 / lambda_max computed at float32: the Hessian's entries carry
    u (n + OPERATIONS_PER_TERM) |A|^T |A| (A = [X, 1]), whose norm is at most ||A||_F^2, and a
    backward-stable eigensolver adds u (d + 1) OPERATIONS_PER_TERM ||H||."""
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    largest = float(np.linalg.eigvalsh(reference.hessian(X))[-1])
    error = 2.0 / n * U * (n + OPERATIONS_PER_TERM) * float(np.sum(A * A)) + U * (d + 1) * OPERATIONS_PER_TERM * largest
    return SAFETY * (2.0 / largest) * error / largest


@functools.lru_cache(maxsize=64)
def _descent_context(cell_id: str, seed: int, index: int):
    """(case, reference path, rounding bound after each step) of one descent case, the same for every student.

    The bound follows the error through the run: each step adds its own rounding (the update's, and lr
    times the batch gradient's), and carries what came before by rho_k = max |1 - lr lambda| over the
    eigenvalues of the batch's Hessian (the step is w <- (I - lr H_B) w + ...).
    """
    case = case_inputs.cases_for(cell_id, seed)[index]
    X, y, w, b = case.effective()
    path = reference.minibatch_sgd(X, y, w, b, case.lr, case.epochs, case.batch_size, case.seed)
    d = X.shape[1]
    error = SAFETY * OPERATIONS_PER_STEP * U * (np.linalg.norm(w) + abs(b))
    bounds = [error]
    lr = abs(case.lr)
    with np.errstate(all="ignore"):
        for k, batch in enumerate(path.batches):
            XB, yB = X[batch], y[batch]
            size = len(batch)
            wk, bk = path.w[k], path.b[k]
            terms = np.abs(XB) @ np.abs(wk) + abs(bk) + np.abs(yB)
            count = size + d + OPERATIONS_PER_TERM
            gradient_error = count * U * 2.0 / size * (np.linalg.norm(np.abs(XB).T @ terms) + np.sum(terms))
            r = XB @ wk + bk - yB
            gradient = 2.0 / size * (np.linalg.norm(XB.T @ r) + abs(np.sum(r)))
            step = OPERATIONS_PER_STEP * U * (np.linalg.norm(wk) + abs(bk) + lr * gradient) + lr * gradient_error
            rho = float(np.max(np.abs(1.0 - lr * np.linalg.eigvalsh(reference.hessian(XB)))))
            error = rho * error + SAFETY * (step + count * TINY)
            bounds.append(float(error))
    return case, path, np.asarray(bounds)


# --- the gradient cells ----------------------------------------------------------------------------

@functools.lru_cache(maxsize=256)
def _gradient_context(function: str, cell_id: str, seed: int, index: int):
    """(case, expected, bound, [(mistake id, numbers)]) of one case: the same for every student, so kept."""
    case = case_inputs.cases_for(cell_id, seed)[index]
    X, y, w, b = case.effective()
    truth = reference.autograd_gradients(X, y, w, b)
    expected = np.asarray(truth.w if function == "grad_w" else truth.b, dtype=float).reshape(-1)
    bound = np.broadcast_to(gradient_bound(function, X, y, w, b), expected.shape)
    candidates = []
    with np.errstate(all="ignore"):
        for mistake in catalogue.gradient_mistakes(function):
            wrong = mistake.formula(X, y, w, b, case.w_form, function)
            if wrong is not None:
                candidates.append((mistake.id, np.asarray(wrong, dtype=float).reshape(-1)))
    return case, expected, bound, candidates


def _same(candidates, mistake_id: str, agrees) -> bool:
    """Whether a mistake gives the right answer's numbers on a case (or cannot happen there): passing
    such a case says nothing against the mistake."""
    formulas = [wrong for k, wrong in candidates if k == mistake_id]
    with np.errstate(all="ignore"):
        return not formulas or any(agrees(wrong) for wrong in formulas)


def _explaining(got: np.ndarray, candidates, bound: np.ndarray, n: int, d: int) -> tuple[str, ...]:
    """The catalogued mistakes whose numbers ``got`` matches (each once, in catalogue order).

    A mistake's numbers may be up to n times the right answer's size (a sum instead of a mean), so it
    gets n times the right answer's room, or its own float32 rounding when that is larger.
    """
    found = []
    room = float(np.max(bound)) * max(1, n)
    with np.errstate(all="ignore"):
        for mistake_id, wrong in candidates:
            if wrong.size != got.size or mistake_id in found:
                continue
            allowed = np.maximum(room, SAFETY * U * (n + d + OPERATIONS_PER_TERM) * np.abs(wrong))
            if _within(got, wrong, allowed):
                found.append(mistake_id)
    return tuple(found)


def _classify_gradient(function: str, cell_id: str, seed: int, index: int, record: dict) -> Outcome:
    if "error" in record:
        return _error_outcome(record)
    output = record.get("output") if isinstance(record.get("output"), dict) else {}
    if output.get("type") == "None":
        return Outcome(False, "returns_none", "returned None")
    if "error" in output or "shape" not in output:
        return Outcome(False, "wrong_type", f"it returned a {str(output.get('type', 'value')).rsplit('.', 1)[-1]}")
    case, expected, bound, candidates = _gradient_context(function, cell_id, seed, index)
    n, d = case.X.shape
    try:
        shape = tuple(int(v) for v in output["shape"])
    except (TypeError, ValueError):
        return Outcome(False, "wrong_type", "it returned something that is not numbers")
    got = _values(output)
    size = int(np.prod(shape)) if shape else 1
    if got is not None and got.size != size:
        got = None
    if got is not None and got.size == expected.size and _within(got, expected, bound):
        if function == "grad_w" and shape != (d,):
            return Outcome(False, "shape", f"returned shape {shape} with the right numbers; grad_w returns shape "
                                           f"({d},) whatever w's shape (flatten it with .reshape(-1))")
        return Outcome(True, None, _size_of_error(got, expected, bound),
                       coincides=lambda k: _same(candidates, k, lambda wrong: _within(wrong, expected, bound)))
    if got is not None:
        explained = _explaining(got, candidates, bound, n, d)
        if explained:
            return Outcome(False, explained[0], f"expected {_fmt(expected)}, got {_fmt(got)}", explained)
        if not np.all(np.isfinite(got)):
            return Outcome(False, "not_finite", f"returned {_fmt(got)}")
    want = f"shape ({d},)" if function == "grad_w" else "a single number"
    if size != expected.size:
        return Outcome(False, "shape", f"returned shape {shape}, expected {want}")
    if got is None:
        return Outcome(False, "shape", f"returned shape {shape} without its values")
    return Outcome(False, "unknown", f"expected {_fmt(expected)}, got {_fmt(got)} "
                                     f"({_size_of_error(got, expected, bound)})")


def _size_of_error(got: np.ndarray, expected: np.ndarray, bound: np.ndarray) -> str:
    """'relative error 3.0e-08; float32 rounding allows 1.2e-06 here', at the worst component."""
    got, expected, bound = got.reshape(-1), expected.reshape(-1), np.broadcast_to(bound, expected.shape).reshape(-1)
    with np.errstate(all="ignore"):
        worst = int(np.nanargmax(np.abs(got - expected) / bound)) if got.size else 0
    denominator = max(tolerance.REL_FLOOR, abs(got[worst]) + abs(expected[worst]))
    relative = float(tolerance.relative_error(got[worst], expected[worst]))
    return f"relative error {relative:.1e}; {HELD_TO} rounding allows {bound[worst] / denominator:.1e} here"


# --- minibatch_sgd ---------------------------------------------------------------------------------

def _returned(record: dict, d: int, w_form: str):
    """(w as (d,), b) from the record, or (None, Outcome) saying what came back instead."""
    final_w, final_b = record.get("final_w"), record.get("final_b")
    if not isinstance(final_w, dict) or not isinstance(final_b, dict):
        output = record.get("output") if isinstance(record.get("output"), dict) else {}
        length = output.get("length")
        if isinstance(length, int) and not isinstance(length, bool):
            return None, Outcome(False, "pair_length", f"returned {length} values; return (w, b)")
        if output.get("type") == "None":
            return None, Outcome(False, "returns_none", "returned None")
        kind = str(output.get("type", "something else")).rsplit(".", 1)[-1]
        return None, Outcome(False, "wrong_type", f"returned a {kind}; return (w, b)")
    w, b = _values(final_w), _values(final_b)
    shape = tuple(final_w.get("shape", ()) or ())
    if w is not None and w.size == d * d and d > 1:
        return None, Outcome(False, "broadcast_square", f"returned w of shape {shape}", ("broadcast_square",))
    allowed = {(d,), (d, 1)} if w_form == "(d, 1)" else {(d,)}
    if w is None or b is None or shape not in allowed or b.size != 1:
        return None, Outcome(False, "pair_length" if w is not None and b is not None else "wrong_type",
                             f"returned w of shape {shape} and b of shape {tuple(final_b.get('shape', ()) or ())}; "
                             f"return w of shape ({d},){' or (d, 1)' if w_form == '(d, 1)' else ''} and b one number")
    return (w, float(b[0])), None


def _close(got: np.ndarray, target: np.ndarray, allowed: float) -> bool:
    if not np.all(np.isfinite(target)) or np.max(np.abs(target)) > DIVERGED:
        return bool(np.any(~np.isfinite(got)) or np.max(np.abs(got)) > DIVERGED)
    if not np.all(np.isfinite(got)):
        return False
    return bool(np.max(np.abs(got - target)) <= allowed)


@functools.lru_cache(maxsize=256)
def _variants(cell_id: str, seed: int, index: int) -> tuple:
    """[(mistake id, final [w..., b])] of one case's catalogued variants, the same for every student."""
    case, _, _ = _descent_context(cell_id, seed, index)
    X, y, w, b = case.effective()
    found = []
    with np.errstate(all="ignore"):
        for mistake in catalogue.DESCENT_MISTAKES:
            path = mistake.variant(case, X, y, w, b)
            if path is not None:
                found.append((mistake.id, np.append(path.w[-1], path.b[-1])))
    return tuple(found)


def _diagnose(case, path, bounds, calls: list) -> tuple[str, str] | None:
    """Where the stand-ins' records leave the reference: ("order" | "batch_size" | "update", detail)."""
    if not isinstance(calls, list) or not calls:
        return None
    name = "grad_w" if any(c.get("f") == "grad_w" for c in calls) else "grad_b"
    steps = [c for c in calls if c.get("f") == name]
    per_epoch = len(path.batches) // max(1, case.epochs)

    def where(k: int) -> str:
        return f"epoch {k // per_epoch + 1}, batch {k % per_epoch + 1}" if per_epoch else f"step {k + 1}"

    for k, call in enumerate(steps[:len(path.batches)]):
        rows, expected = list(call.get("rows", [])), [int(i) for i in path.batches[k]]
        if sorted(rows) != sorted(expected):
            shown = lambda v: ", ".join(str(i) for i in v[:8]) + (", ..." if len(v) > 8 else "")
            if len(rows) != len(expected):
                return "batch_size", (f"{where(k)}: {name} got a batch of {len(rows)} instances, expected "
                                      f"{len(expected)} (rows {shown(expected)})")
            return "order", f"{where(k)}: {name} got rows {shown(rows)}, expected rows {shown(expected)}"
        point = np.append(np.asarray(call.get("w", []), dtype=float), float(call.get("b", np.nan)))
        reference_point = np.append(path.w[k], path.b[k])
        if point.size == reference_point.size and not _close(point, reference_point, bounds[k]):
            return "update", (f"{where(k)}: {name} was called at (w, b) = {_fmt(point)}, expected "
                              f"{_fmt(reference_point)}")
    if len(steps) < min(len(path.batches), catalogue_limit()):
        return "batch_size", f"{name} was called {len(steps)} times, expected {len(path.batches)} (one per batch)"
    return None


def catalogue_limit() -> int:
    from autograder.assignments.mse_gradient_vector import protocol
    return protocol.MAX_CALLS


def _classify_descent(cell_id: str, seed: int, index: int, record: dict) -> Outcome:
    case, path, bounds = _descent_context(cell_id, seed, index)
    calls = record.get("calls") if isinstance(record.get("calls"), list) else []
    d = case.X.shape[1]
    squared = [c for c in calls if int(np.prod(c.get("w_shape") or [1])) == d * d and d > 1]
    if squared:
        return Outcome(False, "broadcast_square", f"{squared[0]['f']} was called with w of shape "
                                                  f"{tuple(squared[0]['w_shape'])}", ("broadcast_square",))
    if "error" in record:
        return _error_outcome(record)
    returned, failed = _returned(record, d, case.w_form)
    if failed is not None:
        return failed
    got = np.append(returned[0], returned[1])
    expected = np.append(path.w[-1], path.b[-1])
    bound = float(bounds[-1])
    if _close(got, expected, bound):
        return Outcome(True, None, f"(w, b) = {_fmt(got)}", coincides=lambda k: _same(
            _variants(cell_id, seed, index), k, lambda wrong: wrong.size == expected.size
            and _close(wrong, expected, bound)))
    detail = f"expected (w, b) = {_fmt(expected)}, got {_fmt(got)}"
    explained = []
    with np.errstate(all="ignore"):
        for mistake_id, wrong in _variants(cell_id, seed, index):
            if wrong.size != got.size or mistake_id in explained:
                continue
            allowed = max(bound, DESCENT_NAME_REL * (1.0 + float(np.nan_to_num(np.max(np.abs(wrong)), posinf=0))))
            if _close(got, wrong, allowed):
                explained.append(mistake_id)
    if explained:
        return Outcome(False, explained[0], detail, tuple(explained))
    diagnosis = _diagnose(case, path, bounds, calls)
    if diagnosis is not None:
        return Outcome(False, diagnosis[0], f"{detail}; {diagnosis[1]}")
    if not np.all(np.isfinite(got)):
        return Outcome(False, "not_finite", detail)
    return Outcome(False, "unknown", f"{detail} (float32 rounding over {len(path.batches)} steps allows "
                                     f"{bound:.1e} here)")


def _own_gradient_note(records, cell_cases) -> str:
    ran = [r for c, r in zip(cell_cases, records) if c.epochs > 0 and "error" not in r and "final_w" in r]
    if not ran:
        return ""
    counts = [r.get("stand_in_calls") if isinstance(r.get("stand_in_calls"), dict) else {} for r in ran]
    never = [name for name in spec.STAND_INS["minibatch_sgd"] if all(c.get(name, 0) == 0 for c in counts)]
    return catalogue.OWN_GRADIENT_SENTENCE.format(names=" and ".join(never)) if never else ""


# --- max_stable_lr -----------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _rate_context(cell_id: str, seed: int, index: int):
    case = case_inputs.cases_for(cell_id, seed)[index]
    X = case.effective()
    with np.errstate(all="ignore"):
        candidates = tuple((m.id, float(m.formula(X))) for m in catalogue.RATE_MISTAKES)
    return case, reference.max_stable_lr(X), rate_bound(X), candidates


def _classify_rate(cell_id: str, seed: int, index: int, record: dict) -> Outcome:
    if "error" in record:
        return _error_outcome(record)
    output = record.get("output") if isinstance(record.get("output"), dict) else {}
    if output.get("type") == "None":
        return Outcome(False, "returns_none", "returned None")
    got = _values(output)
    if got is None or got.size != 1:
        shape = output.get("shape")
        return Outcome(False, "shape" if shape is not None else "wrong_type",
                       f"returned {'shape ' + str(tuple(shape)) if shape is not None else 'no number'}; "
                       f"expected one number")
    case, expected, bound, candidates = _rate_context(cell_id, seed, index)
    value = float(got[0])
    if np.isfinite(value) and abs(value - expected) <= bound:
        return Outcome(True, None, f"{value:.7g} (expected {expected:.7g})", coincides=lambda k: _same(
            candidates, k, lambda wrong: abs(wrong - expected) <= bound))
    detail = f"expected {expected:.7g}, got {value:.7g}"
    relative = bound / expected
    explained = tuple(mistake_id for mistake_id, wrong in candidates
                      if np.isfinite(wrong) and abs(value - wrong) <= 2 * relative * abs(wrong))
    if explained:
        return Outcome(False, explained[0], detail, explained)
    if not np.isfinite(value):
        return Outcome(False, "not_finite", detail)
    return Outcome(False, "unknown", f"{detail} (relative error {abs(value - expected) / expected:.1e}; "
                                     f"{HELD_TO} rounding allows {relative:.1e} here)")


# --- summing up ----------------------------------------------------------------------------------

def _named(outcomes: list[Outcome]) -> str | None:
    """The catalogued mistake that explains the failing cases best: the fewest passing cases against
    it (where it would have failed), then the most failing cases it explains, then catalogue order."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        if not outcome.passed:
            for mistake_id in outcome.explained:
                counts[mistake_id] = counts.get(mistake_id, 0) + 1
    if not counts:
        return None
    passing = [o for o in outcomes if o.passed and o.coincides is not None]
    against = {k: sum(1 for o in passing if not o.coincides(k)) for k in counts}
    order = list(counts)
    return max(order, key=lambda k: (-against[k], counts[k], -order.index(k)))


WHAT = {"grad_w": "matches autograd", "grad_b": "matches autograd",
        "minibatch_sgd": "follows the reference path", "max_stable_lr": "matches 2 / lambda_max of the Hessian"}


def _summarise(cell, cell_cases, outcomes: list[Outcome], note: str = "") -> CheckResult:
    """All cases pass: full points. A catalogued mistake explains a failing case: nothing, and the
    message names it. Otherwise the share of cases that pass, and the commonest failure's words."""
    total = len(outcomes)
    details = [f"{'ok  ' if o.passed else 'FAIL'} {case.label}: {o.detail}" for case, o in zip(cell_cases, outcomes)]
    tail = f" {note}" if note else ""
    passed = sum(1 for o in outcomes if o.passed)
    if passed == total:
        return CheckResult(cell.id, float(cell.points), cell.points,
                           f"{NAMES[cell.function]} {WHAT[cell.function]} on all {total} cases.{tail}", None, details)
    named = _named(outcomes)
    if named is not None:
        case, outcome = next((c, o) for c, o in zip(cell_cases, outcomes) if not o.passed and named in o.explained)
        # Nothing for the cases the mistake explains, unless course.toml gives it credit.
        earned = sum(1.0 if o.passed else catalogue.credit(named) if named in o.explained else 0.0 for o in outcomes)
        points = round(cell.points * earned / total, 2) if catalogue.credit(named) else 0.0
        return CheckResult(cell.id, points, cell.points,
                           f"{passed}/{total} cases pass. {_sentence(cell.function, named)} "
                           f"({outcome.detail}, on {case.label}.){tail}", named, details)
    failures = [(case, o) for case, o in zip(cell_cases, outcomes) if not o.passed]
    kinds = [o.kind for _, o in failures]
    kind = max(set(kinds), key=lambda k: (kinds.count(k), -kinds.index(k)))
    case, outcome = next(f for f in failures if f[1].kind == kind)
    points = round(cell.points * passed / total, 2) if total else 0.0
    text = _sentence(cell.function, kind)
    if kind in ("not_implemented", "missing"):
        message = text
    else:
        message = f"{passed}/{total} cases pass. {text}: {outcome.detail}, on {case.label}."
    return CheckResult(cell.id, points, cell.points, message + tail, kind, details)


def _uses_autograd(probe: dict, records) -> list[str]:
    used = {str(name) for name in probe.get("autograd_names", []) if isinstance(name, str)}
    for record in records:
        used.update(str(name) for name in record.get("autograd", []) or [])
        output = record.get("output")
        if isinstance(output, dict) and output.get("requires_grad"):
            used.add("requires_grad")
    return sorted(used)


def judge_cell(cell_id: str, probe: dict | None, failure: str | None = None, seed: int | None = None) -> CheckResult:
    """One grade cell's result from its probe (or from why there is none)."""
    cell = spec.CELLS_BY_ID[cell_id]
    name = NAMES[cell.function]
    if failure is not None or probe is None:
        why = FAILURES.get(failure or "error", failure)
        return CheckResult(cell.id, 0.0, cell.points, f"{name} {why}; no points for {cell.id}.", failure or "error")
    if "missing" in probe:
        return CheckResult(cell.id, 0.0, cell.points,
                           f"{probe['missing']}: {catalogue.KIND_SENTENCES['missing'].split(': ', 1)[1]}", "missing")
    seed = case_inputs.seed_from_env(seed)
    cell_cases = case_inputs.cases_for(cell_id, seed)
    records = _padded(probe, cell_cases)
    if cell.function in spec.GRADIENT_FUNCTIONS or cell.function == "minibatch_sgd":
        used = _uses_autograd(probe, records)
        if used:
            if cell.function == "minibatch_sgd":
                return CheckResult(cell.id, 0.0, cell.points,
                                   f"{_sentence('minibatch_sgd', 'autograd')} (found: {', '.join(used)}).", "autograd")
            return CheckResult(cell.id, 0.0, cell.points,
                               f"{_sentence(cell.function, 'autograd')} (found: {', '.join(used)}). "
                               f"Write the formula from the derivation instead.", "autograd")
    if cell.function == "minibatch_sgd":
        outcomes = [_classify_descent(cell_id, seed, index, record) for index, record in enumerate(records)]
        note = "" if _named(outcomes) == "unchanged" else _own_gradient_note(records, cell_cases)
        return _summarise(cell, cell_cases, outcomes, note)
    if cell.function == "max_stable_lr":
        outcomes = [_classify_rate(cell_id, seed, index, record) for index, record in enumerate(records)]
    else:
        outcomes = [_classify_gradient(cell.function, cell_id, seed, index, record)
                    for index, record in enumerate(records)]
    return _summarise(cell, cell_cases, outcomes)


def judge_function(function: str, probe: dict | None, failure: str | None = None,
                   seed: int | None = None) -> list[CheckResult]:
    """All grade cells of one function; ``probe`` is probes.probe_function's dict."""
    return [judge_cell(cell.id, None if probe is None else probe.get(cell.id), failure, seed)
            for cell in spec.cells_for(function)]


def descent_paths(probe: dict | None, seed: int | None = None) -> dict | None:
    """The student's and the reference's (w, b) before each step of the first mini-batch run of
    minibatch_sgd_follows_reference (from the stand-ins' records): {"student": [[w..., b], ...],
    "reference": [...], "batch_size", "lr"}; None when there is nothing to draw."""
    if not probe:
        return None
    cell = probe.get("minibatch_sgd_follows_reference", probe)
    records = cell.get("cases") if isinstance(cell, dict) else None
    if not records or not isinstance(records[0], dict):
        return None
    seed = case_inputs.seed_from_env(seed)
    case, path, _ = _descent_context("minibatch_sgd_follows_reference", seed, 0)
    student = [[*map(float, c["w"]), float(c["b"])] for c in records[0].get("calls", []) or []
               if isinstance(c, dict) and c.get("f") == "grad_w"]
    if not student:
        return None
    return {"student": student, "reference": [[*map(float, w), float(b)] for w, b in zip(path.w, path.b)],
            "batch_size": case.batch_size, "lr": case.lr}
