"""What comes back from the sandbox, checked before anyone believes it (trusted side).

The submission's answer is written by the sandbox's per-submission process,
but most of it is what the student's process sent: the probe's numbers,
error texts, printed output. Student code can write to every descriptor its
process holds and rewrite the probe's objects, so all of it is hostile
input. ``clean_answer`` keeps only what the probe can produce: known keys,
the right types, bounded sizes, numbers that are numbers. What does not fit
is not repaired: that function is marked ``refused`` (it earns nothing and
the row is flagged ``tamper``). It never raises on any JSON value.

Times never come from here: the grader measures them on its own clock
(``seconds`` below is the sandbox's own per-submission process's clock, which
student code cannot reach, and is still clamped).
"""
from __future__ import annotations

import math
from types import ModuleType
from typing import NamedTuple

from autograder import spec

MAX_TEXT = 300
MAX_VALUES = 4096          # probes.MAX_VALUES
MAX_CASES = 64
MAX_POINTS = 64            # probes.StandIn.LIMIT
MAX_SECONDS = 24 * 3600.0
FAILURES = ("crash", "timeout", "killed", "exit", "output", "memory", "error")


class Refused(ValueError):
    """A value that the probe could not have produced."""


def _text(value, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise Refused(f"expected text, got {type(value).__name__}")
    return value[:limit]


def _number(value) -> float:
    """A float from a JSON number (NaN and infinities allowed: a student may return them)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Refused(f"expected a number, got {type(value).__name__}")
    try:
        return float(value)
    except OverflowError:
        raise Refused("a number too large for a float") from None


def _seconds(value) -> float:
    number = _number(value)
    if not math.isfinite(number):
        return 0.0
    return min(max(number, 0.0), MAX_SECONDS)


def _texts(value, count: int = 20, limit: int = 80) -> list[str]:
    if not isinstance(value, list):
        raise Refused("expected a list of texts")
    return [_text(item, limit) for item in value[:count]]


def _describe(value) -> dict:
    """probes.describe's output."""
    if not isinstance(value, dict):
        raise Refused("output is not an object")
    out = {"type": _text(value.get("type", ""), 120)}
    for key in value:
        if key not in ("type", "shape", "values", "sum", "dtype", "requires_grad", "error", "length"):
            raise Refused(f"unknown key {key!r} in an output")
    if "shape" in value:
        shape = value["shape"]
        if not isinstance(shape, list) or len(shape) > 8 or not all(
                isinstance(size, int) and not isinstance(size, bool) and 0 <= size < 2 ** 40 for size in shape):
            raise Refused("a shape that is not a list of sizes")
        out["shape"] = list(shape)
    if "values" in value:
        values = value["values"]
        if not isinstance(values, list) or len(values) > MAX_VALUES:
            raise Refused("values that are not a short list of numbers")
        out["values"] = [_number(item) for item in values]
    if "sum" in value:
        out["sum"] = _number(value["sum"])
    if "length" in value:
        length = value["length"]
        if not isinstance(length, int) or isinstance(length, bool) or not 0 <= length < 2 ** 40:
            raise Refused("a length that is not a size")
        out["length"] = length
    for key in ("dtype", "error"):
        if key in value:
            out[key] = _text(value[key])
    if "requires_grad" in value:
        if not isinstance(value["requires_grad"], bool):
            raise Refused("requires_grad is not true or false")
        out["requires_grad"] = value["requires_grad"]
    return out


def _record(value, unit: "_Unit") -> dict:
    if not isinstance(value, dict):
        raise Refused("a case record is not an object")
    out = {}
    for key, item in value.items():
        if key == "output":
            out[key] = _describe(item)
        elif key == "error":
            out[key] = _text(item)
        elif key == "timeout":
            if not isinstance(item, bool):
                raise Refused("timeout is not true or false")
            out[key] = item
        elif key == "seconds":
            out[key] = _seconds(item)
        elif key == "autograd":
            out[key] = _texts(item, 8)
        elif key == "pair":
            if not isinstance(item, list) or len(item) != 2:
                raise Refused("a pair that is not two numbers")
            out[key] = [_number(number) for number in item]
        elif key in unit.keys:
            out[key] = unit.keys[key](item)
        elif key == "gradient_calls":
            if not isinstance(item, dict) or set(item) - unit.stand_ins:
                raise Refused("gradient calls of unknown functions")
            out[key] = {}
            for name, count in item.items():
                if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count < 2 ** 53:
                    raise Refused("a call count that is not a count")
                out[key][name] = count
        elif key == "gradient_points":
            if not isinstance(item, dict) or set(item) - unit.stand_ins:
                raise Refused("gradient points of unknown functions")
            out[key] = {}
            for name, points in item.items():
                if not isinstance(points, list) or len(points) > MAX_POINTS:
                    raise Refused("too many gradient points")
                clean = []
                for point in points:
                    if not isinstance(point, list) or len(point) != 2:
                        raise Refused("a gradient point that is not two numbers")
                    clean.append([_number(point[0]), _number(point[1])])
                out[key][name] = clean
        else:
            raise Refused(f"unknown key {key!r} in a case record")
    return out


class _Unit(NamedTuple):
    """What of an assignment's unit the checks here need."""

    spec: ModuleType
    keys: dict           # the unit's own record validators (docs/assignments.md)
    stand_ins: set       # the functions whose stand-ins may report calls and points


def _unit(assignment) -> _Unit:
    """The unit of `assignment` (an autograder.assignments.Assignment); None is assignment 1."""
    own_spec = spec if assignment is None else assignment.spec
    own = None if assignment is None else assignment.protocol()
    return _Unit(own_spec, dict(getattr(own, "RECORD_KEYS", {}) or {}),
                 {name for names in own_spec.STAND_INS.values() for name in names})


def clean_probe(function: str, probe, case_counts: dict[str, int], assignment=None) -> dict:
    """probes.probe_function's dict for `function`, checked; Refused when it is not one.

    `assignment` (autograder.assignments.Assignment) is the unit whose probe it is; None is assignment 1.
    """
    return _clean_probe(function, probe, case_counts, _unit(assignment))


def _clean_probe(function: str, probe, case_counts: dict[str, int], unit: _Unit) -> dict:
    if not isinstance(probe, dict):
        raise Refused("the probe is not an object")
    expected = {cell.id for cell in unit.spec.cells_for(function)}
    if set(probe) != expected:
        raise Refused("the probe does not answer exactly this function's cells")
    out = {}
    for cell_id, cell in probe.items():
        if not isinstance(cell, dict):
            raise Refused(f"{cell_id} is not an object")
        clean: dict = {}
        for key, item in cell.items():
            if key in ("missing", "skipped"):
                clean[key] = _text(item)
            elif key == "autograd_names":
                clean[key] = _texts(item, 8, 40)
            elif key == "cases":
                if not isinstance(item, list) or len(item) > min(case_counts.get(cell_id, MAX_CASES), MAX_CASES):
                    raise Refused(f"{cell_id} has more case records than cases")
                clean[key] = [_record(record, unit) for record in item]
            else:
                raise Refused(f"unknown key {key!r} in {cell_id}")
        out[cell_id] = clean
    return out


def clean_answer(answer, case_counts: dict[str, int], assignment=None) -> tuple[dict, list[str]]:
    """(the answer with only what the probe can produce, the functions whose results were refused)."""
    if not isinstance(answer, dict):
        answer = {}
    refused: list[str] = []
    clean: dict = {}
    top = answer.get("top")
    if isinstance(top, dict):
        failure = top.get("failure")
        clean["top"] = {"failure": failure if failure in FAILURES else (None if failure is None else "error"),
                        "errors": [item[:MAX_TEXT] for item in top.get("errors", []) if isinstance(item, str)][:10]
                        if isinstance(top.get("errors"), list) else [],
                        "detail": top["detail"][:MAX_TEXT] if isinstance(top.get("detail"), str) else ""}
    else:
        clean["top"] = None
    functions = answer.get("functions") if isinstance(answer.get("functions"), dict) else {}
    clean["functions"] = {}
    unit = _unit(assignment)
    names = unit.spec.FUNCTIONS
    for function in names:
        outcome = functions.get(function)
        if not isinstance(outcome, dict):
            continue
        failure = outcome.get("failure")
        if failure is not None:
            clean["functions"][function] = {
                "failure": failure if failure in FAILURES else "error",
                "detail": outcome["detail"][:MAX_TEXT] if isinstance(outcome.get("detail"), str) else ""}
            continue
        try:
            clean["functions"][function] = {"probe": _clean_probe(function, outcome.get("probe"), case_counts, unit)}
        except (Refused, RecursionError) as error:
            refused.append(function)
            clean["functions"][function] = {"failure": "error",
                                            "detail": f"its results were not what the probe sends ({error})"}
    seconds = answer.get("seconds") if isinstance(answer.get("seconds"), dict) else {}
    clean["seconds"] = {}
    for function in names:
        try:
            clean["seconds"][function] = _seconds(seconds.get(function, 0.0))
        except Refused:
            clean["seconds"][function] = 0.0
    try:
        clean["top_seconds"] = _seconds((top or {}).get("seconds", 0.0)) if isinstance(top, dict) else 0.0
    except Refused:
        clean["top_seconds"] = 0.0
    output = answer.get("output") if isinstance(answer.get("output"), dict) else {}
    size = output.get("bytes")
    clean["output"] = {"bytes": size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else 0,
                       "head": output["head"][:8192] if isinstance(output.get("head"), str) else ""}
    tamper = answer.get("tamper")
    clean["tamper"] = [item[:80] for item in tamper[:20] if isinstance(item, str)] if isinstance(tamper, list) else []
    cells = answer.get("cells")
    clean["cells"] = []
    if isinstance(cells, list):
        for cell in cells[:500]:
            if isinstance(cell, dict):
                clean["cells"].append({
                    "output": cell["output"][:4096] if isinstance(cell.get("output"), str) else "",
                    "error": cell["error"][:MAX_TEXT] if isinstance(cell.get("error"), str) else None})
    for key in ("isolation", "cgroup"):
        value = answer.get(key)
        clean[key] = {str(k)[:40]: v for k, v in value.items() if isinstance(v, (str, int, bool))} \
            if isinstance(value, dict) else {}
    if isinstance(answer.get("error"), str):
        clean["error"] = answer["error"][:MAX_TEXT]
    return clean, refused
