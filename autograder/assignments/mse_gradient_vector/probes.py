"""Calling assignment 2's student functions on the check cases and recording plain numbers.

The untrusted half of a check, on the engine of ``autograder.probes``
(``call_student``, ``describe``, ``timed_out``, ``CALL_SECONDS``): it runs
where student code runs and returns JSON-able numbers; the judge decides.
It holds no answer key and imports none (no reference, cases, judge or
mistakes): the cases arrive as plain data. The only gradient it computes is
minibatch_sgd's stand-in, which answers only while that call runs and only
for rows of that call's own X.

While minibatch_sgd runs, stand-ins replace the student's grad_w and grad_b
in the namespace, so a wrong gradient costs only its own points. Each
stand-in call (up to CALL_LIMIT) is recorded: which function, which rows of
X it was given (found by matching rows: indexing copies values exactly), and
the w and b it was called at. From these the judge tells a wrong order, a
wrong batch size and a wrong update apart.
"""
from __future__ import annotations

import numpy as np
import torch

from autograder.assignments.mse_gradient_vector import spec
from autograder.inputs import DTYPES, as_scalar, param
from autograder.probes import CALL_SECONDS, autograd_names, call_student, describe, timed_out

# Stand-in calls recorded per minibatch_sgd call (all are counted). Enough for every hidden run;
# the lecture's 1001 epochs record their first steps only.
CALL_LIMIT = 256
# Rows recorded per stand-in call, and w's values (a (d, d) broadcast is recorded by its shape only).
ROW_LIMIT = 1024
W_LIMIT = 64
# Batches whose rows are remembered by their bytes (a full batch repeats every epoch).
BATCH_CACHE = 4096
# A call bound for functions that assignment 1's CALL_SECONDS does not name: its largest.
DEFAULT_CALL_SECONDS = max(CALL_SECONDS.values())
STAND_IN_NAMES = spec.STAND_INS["minibatch_sgd"]


def _seconds(name: str) -> float:
    return float(CALL_SECONDS.get(name, max(CALL_SECONDS.values(), default=DEFAULT_CALL_SECONDS)))


def tensors(case: dict):
    """(X, y, w, b) as the student receives them, fresh every call: X (n, d) and y (n,) at the case's
    dtype, w of shape (d,) or (d, 1) at that dtype, b a float, 0-d or shape-[1] tensor."""
    dtype = DTYPES[case["dtype"]]
    X = torch.tensor(np.asarray(case["X"], dtype=np.float64), dtype=dtype)
    X = X.reshape(X.shape[0], -1) if X.ndim != 2 else X
    y = torch.tensor(np.asarray(case["y"], dtype=np.float64), dtype=dtype)
    w = torch.tensor(np.asarray(case["w"], dtype=np.float64), dtype=dtype).reshape(-1)
    if case["w_form"] == "(d, 1)":
        w = w.reshape(-1, 1)
    return X, y, w, param(float(case["b"]), case["b_form"], dtype)


def matrix(case: dict) -> torch.Tensor:
    """max_stable_lr's X at the case's dtype."""
    X = torch.tensor(np.asarray(case["X"], dtype=np.float64), dtype=DTYPES[case["dtype"]])
    return X.reshape(X.shape[0], -1) if X.ndim != 2 else X


def _rows_key(array: np.ndarray) -> list[bytes]:
    """One key per row: its values at float32 (so a batch converted with .float() or .double() still matches)."""
    return [row.tobytes() for row in np.ascontiguousarray(array.astype(np.float32))]


class StandIn:
    """Stands in for the student's grad_w or grad_b inside minibatch_sgd, recording each call.

    Armed only while its minibatch_sgd call runs; kept and called later it
    raises. It answers only for rows of that call's own X. The formula
    repeats the reference's (which is not in the sandbox); a test holds them
    equal. It returns what the contract says grad_w and grad_b return:
    shape (d,), and a 0-d tensor.
    """

    def __init__(self, which: str, X: torch.Tensor, log: list, counts: dict):
        self.which = which
        self.armed = False
        self.d = X.shape[1]
        self.index = {key: i for i, key in enumerate(_rows_key(X.detach().double().numpy()))}
        self.batches: dict[bytes, list[int]] = {}   # a whole batch's bytes -> its rows
        self.log, self.counts = log, counts

    def __call__(self, X, y, w, b):
        if not self.armed:
            raise RuntimeError(f"{self.which} is only available inside minibatch_sgd")
        self.counts[self.which] = self.counts.get(self.which, 0) + 1
        X = X if isinstance(X, torch.Tensor) else torch.as_tensor(X)
        w = w if isinstance(w, torch.Tensor) else torch.as_tensor(w)
        dtype = X.dtype if X.dtype.is_floating_point else torch.float64
        array = _numbers(X).reshape(-1, self.d) if X.numel() % self.d == 0 else None
        rows = self._rows(array)
        b_value = _scalar(b)
        if len(self.log) < CALL_LIMIT:
            self.log.append(self._entry(rows, w, b_value))
        if array is None or any(row < 0 for row in rows):
            raise ValueError(f"{self.which} was given rows that are not rows of minibatch_sgd's X")
        if w.numel() != self.d:
            raise ValueError(f"{self.which} was given w of shape {tuple(w.shape)}; it expects {self.d} values")
        # At float64 in numpy (the lecture's run makes 2002 of these calls), returned at X's
        # dtype as grad_w and grad_b would return it.
        y = y if isinstance(y, torch.Tensor) else torch.as_tensor(y)
        residual = array @ _numbers(w).reshape(-1) + b_value - _numbers(y).reshape(-1)
        if self.which == "grad_w":
            return torch.from_numpy(2.0 * (array.T @ residual) / len(residual)).to(dtype)
        return torch.tensor(2.0 * float(np.sum(residual)) / len(residual), dtype=dtype)

    def _rows(self, array) -> list[int]:
        if array is None:
            return [-1]
        key = array.astype(np.float32).tobytes()
        rows = self.batches.get(key)
        if rows is None:
            rows = [self.index.get(row, -1) for row in _rows_key(array)]
            if len(self.batches) < BATCH_CACHE:
                self.batches[key] = rows
        return rows

    def _entry(self, rows: list[int], w: torch.Tensor, b_value: float) -> dict:
        try:
            values = _numbers(w).reshape(-1).tolist() if w.numel() <= W_LIMIT else []
        except (RuntimeError, TypeError, ValueError):
            values = []
        return {"f": self.which, "rows": list(rows[:ROW_LIMIT]), "w": [float(v) for v in values],
                "w_shape": [int(s) for s in w.shape], "b": b_value}


def _numbers(tensor: torch.Tensor) -> np.ndarray:
    """A tensor's values as a float64 numpy array (detached; no copy when it is float64 already)."""
    return tensor.detach().numpy().astype(np.float64, copy=False)


def _scalar(value) -> float:
    """b as a float (NaN when it is not one number: the call then fails in the student's code or here)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return as_scalar(value)
    except (ValueError, TypeError, RuntimeError):
        return float("nan")


def _pair(result) -> dict:
    """minibatch_sgd's (w, b): {"final_w": describe(w), "final_b": describe(b)}, or what came back instead."""
    if isinstance(result, (tuple, list)):
        if len(result) != 2:
            return {"output": {"type": type(result).__name__, "length": len(result)}}
        return {"final_w": describe(result[0]), "final_b": describe(result[1])}
    return {"output": describe(result)}


def _probe_gradient_cell(namespace: dict, function, name: str, cases: list) -> dict:
    records = []
    for case in cases:
        record = call_student(function, tensors(case), {}, _seconds(name))
        result = record.pop("result", None)
        if "error" not in record:
            record["output"] = describe(result)
        records.append(record)
        if record.get("timeout"):
            timed_out(namespace).add(name)
            break
    return {"cases": records}


def _probe_rate_cell(namespace: dict, function, cases: list) -> dict:
    records = []
    for case in cases:
        record = call_student(function, (matrix(case),), {}, _seconds("max_stable_lr"))
        result = record.pop("result", None)
        if "error" not in record:
            record["output"] = describe(result)
        records.append(record)
        if record.get("timeout"):
            timed_out(namespace).add("max_stable_lr")
            break
    return {"cases": records}


def _probe_descent_cell(namespace: dict, function, cases: list) -> dict:
    records = []
    saved = {name: namespace[name] for name in STAND_IN_NAMES if name in namespace}
    try:
        for case in cases:
            X, y, w, b = tensors(case)
            log: list = []
            counts: dict = {name: 0 for name in STAND_IN_NAMES}
            stand_ins = {name: StandIn(name, X, log, counts) for name in STAND_IN_NAMES}
            namespace.update(stand_ins)
            for stand_in in stand_ins.values():
                stand_in.armed = True
            try:
                record = call_student(function, (X, y, w, b),
                                      {"lr": float(case["lr"]), "epochs": int(case["epochs"]),
                                       "batch_size": int(case["batch_size"]), "seed": int(case["seed"])},
                                      _seconds("minibatch_sgd"))
            finally:
                for stand_in in stand_ins.values():
                    stand_in.armed = False
            result = record.pop("result", None)
            if "error" not in record:
                record.update(_pair(result))
            record["stand_in_calls"] = dict(counts)
            record["calls"] = log
            records.append(record)
            if record.get("timeout"):
                timed_out(namespace).add("minibatch_sgd")
                break
    finally:
        for name in STAND_IN_NAMES:
            if name in saved:
                namespace[name] = saved[name]
            else:
                namespace.pop(name, None)
    return {"cases": records}


def probe_cell(namespace: dict, cell_id: str, cases: list) -> dict:
    """Run the student's function for one grade cell on all its cases (plain data from ``cases.cell_inputs``)."""
    cell = spec.CELLS_BY_ID[cell_id]
    function = namespace.get(cell.function)
    if not callable(function):
        found = "is not defined" if function is None else f"is a {type(function).__name__}, not a function"
        return {"missing": f"{cell.function} {found}"}
    probe: dict = {"autograd_names": autograd_names(function)}
    if cell.function in timed_out(namespace):
        probe.update(cases=[], skipped="an earlier check of this function timed out")
    elif cell.function == "minibatch_sgd":
        probe.update(_probe_descent_cell(namespace, function, cases))
    elif cell.function == "max_stable_lr":
        probe.update(_probe_rate_cell(namespace, function, cases))
    else:
        probe.update(_probe_gradient_cell(namespace, function, cell.function, cases))
    return probe


def probe_function(namespace: dict, function: str, cases: dict) -> dict:
    """All grade cells of one function: {cell_id: probe}, from {cell_id: cases}. JSON-able (NaN allowed)."""
    return {cell.id: probe_cell(namespace, cell.id, list(cases.get(cell.id) or []))
            for cell in spec.cells_for(function)}


def warm_up() -> None:
    """Run every probe once on simple formulas, so lazy initialisation happens before any fork."""
    case = {"X": [[0.0, 1.0], [1.0, 0.5], [2.0, -1.0]], "y": [1.0, 0.0, -1.0], "w": [0.5, -0.5], "b": 0.1,
            "dtype": "float32", "w_form": "(d, 1)", "b_form": "shape-[1] tensor", "lr": 0.01, "epochs": 2,
            "batch_size": 2, "seed": 0}

    def gradient(X, y, w, b):
        return 2 * X.T @ (X @ w.reshape(-1) + b - y) / len(y)

    def sgd(X, y, w, b, lr, epochs, batch_size, seed):
        generator = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            order = torch.randperm(len(y), generator=generator)
            for start in range(0, len(y), batch_size):
                rows = order[start:start + batch_size]
                gw, gb = namespace["grad_w"](X[rows], y[rows], w, b), namespace["grad_b"](X[rows], y[rows], w, b)
                w, b = w - lr * gw.reshape(w.shape), b - lr * gb
        return w, b

    namespace = {"grad_w": gradient, "grad_b": gradient, "minibatch_sgd": sgd,
                 "max_stable_lr": lambda X: float(2 / torch.linalg.eigvalsh(X.T @ X)[-1])}
    for function in spec.FUNCTIONS:
        probe_function(namespace, function, {cell.id: [case] for cell in spec.cells_for(function)})
