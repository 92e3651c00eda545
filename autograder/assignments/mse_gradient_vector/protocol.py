"""Assignment 2's record keys beyond the common ones, checked before anyone believes them (trusted side).

``RECORD_KEYS = {key: validator}``: each validator returns the clean value
or raises ``Refused``. Sizes are bounded by what the probe can send
(``probes.CALL_LIMIT``, ``ROW_LIMIT``, ``W_LIMIT``); numbers must be numbers.
"""
from __future__ import annotations

from autograder.isolation.protocol import Refused, _describe, _number

MAX_CALLS = 256        # probes.CALL_LIMIT
MAX_ROWS = 1024        # probes.ROW_LIMIT
MAX_W = 64             # probes.W_LIMIT
MAX_ROW_INDEX = 1 << 20
STAND_IN_NAMES = ("grad_w", "grad_b")


def _count(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2 ** 53:
        raise Refused("a call count that is not a count")
    return value


def _size(value, limit: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not -1 <= value < limit:
        raise Refused("a size or row index out of range")
    return value


def stand_in_calls(value) -> dict:
    """{"grad_w": count, "grad_b": count}."""
    if not isinstance(value, dict) or set(value) - set(STAND_IN_NAMES):
        raise Refused("stand-in calls of unknown functions")
    return {name: _count(count) for name, count in value.items()}


def calls(value) -> list:
    """[{"f", "rows", "w", "w_shape", "b"}, ...]: each recorded stand-in call."""
    if not isinstance(value, list) or len(value) > MAX_CALLS:
        raise Refused("too many recorded stand-in calls")
    clean = []
    for call in value:
        if not isinstance(call, dict) or set(call) != {"f", "rows", "w", "w_shape", "b"}:
            raise Refused("a stand-in call that is not what the probe records")
        if call["f"] not in STAND_IN_NAMES:
            raise Refused("a stand-in call of an unknown function")
        rows, w, shape = call["rows"], call["w"], call["w_shape"]
        if not isinstance(rows, list) or len(rows) > MAX_ROWS:
            raise Refused("too many rows in a stand-in call")
        if not isinstance(w, list) or len(w) > MAX_W:
            raise Refused("too many values of w in a stand-in call")
        if not isinstance(shape, list) or len(shape) > 8:
            raise Refused("a shape that is not a list of sizes")
        clean.append({"f": call["f"], "rows": [_size(row, MAX_ROW_INDEX) for row in rows],
                      "w": [_number(v) for v in w], "w_shape": [_size(s, 2 ** 40) for s in shape],
                      "b": _number(call["b"])})
    return clean


RECORD_KEYS = {"final_w": _describe, "final_b": _describe, "stand_in_calls": stand_in_calls, "calls": calls}
