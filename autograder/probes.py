"""Calling the student's functions on the check cases and recording plain numbers.

This is the untrusted half of a check: it runs wherever the student's code
runs (their kernel, or a sandboxed child of ``msegrad grade``) and returns
a JSON-able dict. It never decides a grade; ``autograder.judge`` does, from
these numbers alone, in the grader's own process. It holds no answer key:
the cases arrive as plain data from the trusted side (``cases.cell_inputs``),
and the only gradient it can compute is sgd's stand-in, which answers only
during that sgd call and only for that call's own data.

Every call gets fresh copies of its inputs, is bounded in time where a
signal can interrupt it, and has its stderr and warnings swallowed (nbgrader
scores a test cell with any stderr output 0).
"""
from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import threading
import time
import warnings

import numpy as np
import torch

from autograder import config, spec
from autograder.inputs import as_scalar, tensors

# Enough values to judge an (n,) result for the largest case; an n x n
# broadcast is described by its shape and sum instead.
MAX_VALUES = 4096
# A gradient call on a few hundred points takes milliseconds; the lecture's
# 1001-epoch sgd well under a second. These bounds only stop runaway loops.
# course.toml's limits.call_seconds; in the sandbox, the grader's request sets it.
class _CallSeconds(dict):
    """Seconds per function name; a function of any assignment without its own entry gets the "*" entry."""

    def __missing__(self, name: str) -> float:
        return dict.__getitem__(self, "*")


_BOUND = float(config.get("limits", "call_seconds"))
CALL_SECONDS = _CallSeconds({"*": _BOUND, **{name: _BOUND for name in spec.FUNCTIONS}})


def set_call_seconds(seconds: float) -> None:
    """Bound every call of a student's function at `seconds` (wall clock), whatever its assignment."""
    for name in list(CALL_SECONDS):
        CALL_SECONDS[name] = seconds
AUTOGRAD_NAMES = frozenset({"backward", "autograd", "requires_grad", "requires_grad_", "func"})


# Where a namespace notes the functions that already ran out of time: their
# later checks are not run again, so one endless loop costs one time limit,
# not one per check.
TIMED_OUT_KEY = "__msegrad_timed_out__"


def timed_out(namespace: dict) -> set:
    return namespace.setdefault(TIMED_OUT_KEY, set())


class CheckTimeout(BaseException):
    """Raised into student code that runs too long; a BaseException so `except Exception` cannot swallow it."""


def describe(value) -> dict:
    """A plain-number description of whatever the student returned."""
    kind = type(value).__module__ + "." + type(value).__qualname__
    if value is None:
        return {"type": "None"}
    if isinstance(value, bool):
        return {"type": kind}
    if isinstance(value, (int, float)):
        return {"type": kind, "shape": [], "values": [float(value)]}
    if isinstance(value, torch.Tensor):
        try:
            array = value.detach().cpu().double().numpy()
        except Exception as error:  # complex tensors, meta tensors
            return {"type": kind, "error": f"cannot be read as numbers ({error})"}
        out = {"type": kind, "dtype": str(value.dtype).replace("torch.", ""),
               "requires_grad": bool(value.requires_grad)}
    elif isinstance(value, (np.ndarray, np.generic)):
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as error:
            return {"type": kind, "error": f"cannot be read as numbers ({error})"}
        out = {"type": kind, "dtype": str(value.dtype)}
    else:
        return {"type": kind}
    out["shape"] = list(array.shape)
    flat = array.reshape(-1)
    with np.errstate(all="ignore"):
        out["sum"] = float(np.sum(flat)) if flat.size else 0.0
    if flat.size <= MAX_VALUES:
        out["values"] = [float(v) for v in flat]
    return out


def _format_error(error: BaseException) -> str:
    """'TypeError: message (line 4 of dC_dm)', the student's frame when there is one."""
    text = f"{type(error).__name__}: {error}"
    frame = error.__traceback__
    where = None
    while frame is not None:
        code = frame.tb_frame.f_code
        if not code.co_filename.startswith(os.path.dirname(__file__)):
            where = f"line {frame.tb_lineno} of {code.co_name}"
        frame = frame.tb_next
    text = text if len(text) < 300 else text[:297] + "..."
    return f"{text} ({where})" if where else text


class _AutogradSpy:
    """Counts calls into autograd while student code runs."""

    def __init__(self):
        self.calls: list[str] = []

    def __enter__(self):
        self._saved = [
            (torch.Tensor, "backward", torch.Tensor.backward),
            (torch.autograd, "grad", torch.autograd.grad),
            (torch.autograd, "backward", torch.autograd.backward),
        ]
        for owner, name, original in self._saved:
            setattr(owner, name, self._wrap(f"{'Tensor' if owner is torch.Tensor else 'torch.autograd'}.{name}", original))
        return self

    def _wrap(self, label, original):
        def spy(*args, **kwargs):
            self.calls.append(label)
            return original(*args, **kwargs)
        return spy

    def __exit__(self, *exc):
        for owner, name, original in self._saved:
            setattr(owner, name, original)
        return False


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Interrupt the block after `seconds` with CheckTimeout (main thread, POSIX only)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise CheckTimeout(f"did not finish within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _quiet():
    """Swallow the student's stderr: Python-level, warnings and the OS-level fd 2."""
    saved_fd = None
    sink = None
    try:
        sys.stderr.flush()
        saved_fd = os.dup(2)
        # /dev/null, not a temporary file: nothing is kept, nothing fills the scratch, and it
        # costs a tenth as much per call (fifty calls per submission).
        sink = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
        os.dup2(sink, 2)
    except (OSError, ValueError, AttributeError):
        saved_fd = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with contextlib.redirect_stderr(io.StringIO()):
                yield
    finally:
        if saved_fd is not None:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
        if sink is not None:
            os.close(sink)


def call_student(function, args: tuple, kwargs: dict, seconds: float) -> dict:
    """One guarded call: {'output': describe(...)} or {'error': ...}, plus seconds and autograd use."""
    record: dict = {}
    spy = _AutogradSpy()
    started = time.perf_counter()
    try:
        with _quiet(), spy, _time_limit(seconds):
            result = function(*args, **kwargs)
        record["result"] = result
    except CheckTimeout as error:
        record["error"] = f"timeout: {error}"
        record["timeout"] = True
    except RecursionError as error:
        record["error"] = _format_error(error)
    except Exception as error:
        record["error"] = _format_error(error)
    except (SystemExit, KeyboardInterrupt) as error:
        record["error"] = f"{type(error).__name__} raised inside the function"
    record["seconds"] = time.perf_counter() - started
    if spy.calls:
        record["autograd"] = sorted(set(spy.calls))
    return record


def autograd_names(function) -> list[str]:
    """Names in the function's code (and nested code) that only autograd would use."""
    found: set[str] = set()
    stack = [getattr(function, "__code__", None)]
    while stack:
        code = stack.pop()
        if code is None:
            continue
        found.update(name for name in code.co_names if name in AUTOGRAD_NAMES)
        stack.extend(const for const in code.co_consts if hasattr(const, "co_names"))
    found.discard("func")  # only suspicious as torch.func, recorded at run time instead
    return sorted(found)


def _probe_gradient_cell(namespace: dict, function, name: str, cases: list) -> dict:
    records = []
    for case in cases:
        x, y, m, b = tensors(case)
        # y_hat at the case's dtype, as the lecture's forward pass makes it.
        args = ((m * x + b).reshape(-1), y) if name == "dC_dyhat" else (x, y, m, b)
        record = call_student(function, args, {}, CALL_SECONDS[name])
        result = record.pop("result", None)
        if record.get("timeout"):
            timed_out(namespace).add(name)
            records.append(record)
            break
        if "error" not in record:
            record["output"] = describe(result)
        records.append(record)
    return {"cases": records}


class StandIn:
    """Stands in for the student's dC_dm or dC_db inside sgd, recording where it was called.

    It answers only while its sgd call runs (``armed``): kept and called
    later it raises, so it is no gradient oracle outside sgd (and sgd is
    probed after the gradient functions). The formulas repeat the
    reference's (``autograder.reference``, which is not in the sandbox); a
    test holds them equal.
    """

    LIMIT = 64

    def __init__(self, which: str):
        self.which = which
        self.armed = False
        self.calls = 0
        self.points: list[tuple[float, float]] = []

    def __call__(self, x, y, m, b):
        if not self.armed:
            raise RuntimeError(f"{self.which} is only available inside sgd")
        self.calls += 1
        if len(self.points) < self.LIMIT:
            try:
                self.points.append((as_scalar(m), as_scalar(b)))
            except (ValueError, TypeError, RuntimeError):
                pass
        dC_dyhat = 2 * ((m * x + b) - y) / len(y)
        return torch.sum(dC_dyhat * x) if self.which == "dC_dm" else torch.sum(dC_dyhat)


def _dtype_name(value) -> str:
    """The floating-point type a returned number was computed in, as far as its type shows."""
    if isinstance(value, torch.Tensor):
        return str(value.dtype).replace("torch.", "")
    if isinstance(value, (np.ndarray, np.generic)):
        return str(value.dtype)
    return "float64" if isinstance(value, float) else type(value).__name__


def _coarsest(dtypes) -> str:
    """The coarsest floating-point type among the pair's numbers (float64 for Python floats)."""
    order = ("float64", "float32", "float16", "bfloat16")
    known = [d for d in dtypes if d in order]
    return max(known, key=order.index) if known else "float64"


def _pair(result) -> dict:
    """sgd's (m, b) as two floats: a tuple or list of two numbers, or a tensor or array holding two.

    {"pair": [m, b], "output": {"type", "dtype": the coarser of the two, "length": 2}}, or
    {"output": {...}} saying what came back instead ("length": how many values, when it was a
    sequence, tensor or array of numbers).
    """
    if isinstance(result, (torch.Tensor, np.ndarray)):
        count = result.numel() if isinstance(result, torch.Tensor) else result.size
        if count != 2:
            return {"output": {**describe(result), "length": int(count)}}
        try:
            flat = result.detach().reshape(-1) if isinstance(result, torch.Tensor) else result.reshape(-1)
            items = (flat[0], flat[1])
        except (ValueError, TypeError, RuntimeError) as error:
            return {"output": {"type": "pair", "error": str(error)}}
    elif isinstance(result, (tuple, list)):
        if len(result) != 2:
            return {"output": {"type": type(result).__name__, "length": len(result)}}
        items = tuple(result)
    else:
        return {"output": describe(result)}
    try:
        return {"pair": [as_scalar(items[0]), as_scalar(items[1])],
                "output": {"type": type(result).__module__ + "." + type(result).__qualname__,
                           "dtype": _coarsest(_dtype_name(item) for item in items), "length": 2}}
    except (ValueError, TypeError, RuntimeError) as error:
        return {"output": {"type": "pair", "error": str(error)}}


def _probe_sgd_cell(namespace: dict, function, cases: list) -> dict:
    records = []
    saved = {name: namespace.get(name, None) for name in ("dC_dm", "dC_db")}
    try:
        for case in cases:
            # The reference gradients stand in for the student's, so a wrong
            # dC_dm costs only its own points (no double penalty).
            x, y, m, b = tensors(case)
            stand_ins = {name: StandIn(name) for name in ("dC_dm", "dC_db")}
            namespace.update(stand_ins)
            for stand_in in stand_ins.values():
                stand_in.armed = True
            try:
                record = call_student(function, (x, y, m, b), {"lr": float(case["lr"]), "epochs": int(case["epochs"])},
                                      CALL_SECONDS["sgd"])
            finally:
                for stand_in in stand_ins.values():
                    stand_in.armed = False
            result = record.pop("result", None)
            if "error" not in record:
                record.update(_pair(result))
            record["gradient_calls"] = {name: rec.calls for name, rec in stand_ins.items()}
            record["gradient_points"] = {name: rec.points for name, rec in stand_ins.items()}
            records.append(record)
            if record.get("timeout"):
                timed_out(namespace).add("sgd")
                break
    finally:
        for name, value in saved.items():
            if value is None:
                namespace.pop(name, None)
            else:
                namespace[name] = value
    return {"cases": records}


def probe_cell(namespace: dict, cell_id: str, cases: list) -> dict:
    """Run the student's function for one grade cell on all its cases (plain data from ``cases.cell_inputs``)."""
    cell = spec.CELLS_BY_ID[cell_id]
    function = namespace.get(cell.function)
    if not callable(function):
        found = "is not defined" if function is None else f"is a {type(function).__name__}, not a function"
        return {"missing": f"{cell.function} {found}"}
    probe = {"autograd_names": autograd_names(function)}
    if cell.function in timed_out(namespace):
        # Missing cases are judged as timeouts.
        probe.update(cases=[], skipped="an earlier check of this function timed out")
    elif cell.function == "sgd":
        probe.update(_probe_sgd_cell(namespace, function, cases))
    else:
        probe.update(_probe_gradient_cell(namespace, function, cell.function, cases))
    return probe


def probe_function(namespace: dict, function: str, cases: dict) -> dict:
    """All grade cells of one function: {cell_id: probe}, from {cell_id: cases}. JSON-able (NaN allowed)."""
    return {cell.id: probe_cell(namespace, cell.id, list(cases.get(cell.id) or [])) for cell in spec.cells_for(function)}


def warm_up() -> None:
    """Run every probe once on the model's own formulas, so lazy initialisation happens before any fork."""
    from autograder.data import B_START, M_START, X_LECTURE, Y_LECTURE
    case = {"x": list(X_LECTURE), "y": list(Y_LECTURE), "m": M_START, "b": B_START, "dtype": "float32",
            "form": "shape-[1] tensor", "lr": 0.01, "epochs": 3}

    def gradient(x, y, m, b):
        return torch.sum(2 * ((m * x + b) - y) / len(y))

    def sgd(x, y, m, b, lr=0.01, epochs=1000):
        for _ in range(epochs):
            m, b = m - lr * namespace["dC_dm"](x, y, m, b), b - lr * namespace["dC_db"](x, y, m, b)
        return m, b

    namespace = {"dC_dyhat": lambda y_hat, y: 2 * (y_hat - y) / len(y), "dC_dm": gradient, "dC_db": gradient,
                 "sgd": sgd}
    for function in spec.FUNCTIONS:
        probe_function(namespace, function, {cell.id: [case] for cell in spec.cells_for(function)})

