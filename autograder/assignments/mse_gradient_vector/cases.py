"""Assignment 2's check inputs, rebuilt from a seed (trusted side).

A case holds plain numbers (float64 arrays and floats) and how they are
handed to the student: X's dtype, w as shape (d,) or (d, 1), b as a float,
a 0-d or a shape-[1] tensor. The probe builds the tensors from the plain
dict (``as_plain``); the judge rounds the same numbers through the case's
dtype (``effective``) and computes the truth live. Expected values are never
stored here.
"""
from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass, fields

import numpy as np
import torch

from autograder import config
from autograder.assignments.mse_gradient_vector import data, reference, spec
from autograder.config import seed_from_env  # noqa: F401  (course.toml's seed, shared by every assignment)
from autograder.inputs import PARAM_FORMS

W_FORMS = ("(d,)", "(d, 1)")
# The lecture's mini-batch case, and the visible diabetes cases' sizes.
LECTURE_BATCH = 3
DIABETES_SQUARE = 10          # n = d = 10: X w and X^T r both exist, so "X instead of X^T" gives numbers
DIABETES_RATE_ROWS = 20
# The hidden cases' settings below are the defaults; course.toml's [cases.mse-gradient-vector] sets them.
_CONFIGURED = dict(config.settings()["cases"].get(spec.ASSIGNMENT) or {})


def _sizes(name: str, row, size: int) -> tuple:
    """`size` whole numbers above zero, or ConfigError naming the key."""
    if not isinstance(row, (list, tuple)) or len(row) != size or not all(
            isinstance(item, int) and not isinstance(item, bool) and item > 0 for item in row):
        raise config.ConfigError(f"{config.path()}: cases.{spec.ASSIGNMENT}.{name} needs lists of {size} "
                                 f"whole numbers above zero, not {row!r}")
    return tuple(row)


def _rows(name: str, default: tuple, size: int) -> tuple:
    """course.toml's list of lists for `name` (each `size` whole numbers), else the default."""
    value = _CONFIGURED.get(name, default)
    if not isinstance(value, (list, tuple)) or not value:
        raise config.ConfigError(f"{config.path()}: cases.{spec.ASSIGNMENT}.{name} must be a non-empty list")
    return tuple(_sizes(name, row, size) for row in value)


def _fractions(name: str, default: tuple) -> tuple:
    """course.toml's list of numbers above zero for `name`, else the default."""
    value = _CONFIGURED.get(name, default)
    if not isinstance(value, (list, tuple)) or not value or not all(
            isinstance(item, (int, float)) and not isinstance(item, bool) and item > 0 for item in value):
        raise config.ConfigError(f"{config.path()}: cases.{spec.ASSIGNMENT}.{name} must be a list of numbers "
                                 f"above zero, not {value!r}")
    return tuple(float(item) for item in value)


# Hidden gradient cases: (n, d). n == d for some, so that X r exists and "X instead of X^T" is named.
GRADIENT_SHAPES = _rows("gradient_shapes", ((1, 1), (3, 2), (5, 5), (17, 3), (12, 12), (40, 7), (31, 1),
                                            (64, 50), (50, 50), (257, 20), (8, 30)), 2)
# Hidden mini-batch runs: (n, d, batch_size, epochs); batch sizes that do and do not divide n.
FOLLOW_RUNS = _rows("follow_runs", ((12, 1, 4, 3), (23, 4, 5, 2), (40, 10, 8, 2), (30, 6, 7, 3), (17, 2, 2, 4)), 4)
FOLLOW_DIABETES = _sizes("follow_diabetes", _CONFIGURED.get("follow_diabetes", (60, 16, 2)), 3)  # rows, batch, epochs
FULL_BATCH_SIZE = _sizes("full_batch_size", _CONFIGURED.get("full_batch_size", (20, 3)), 2)      # (n, d)
# lr as a fraction of the largest rate at which every batch's step still contracts (see _safe_lr).
LR_FRACTIONS = _fractions("lr_fractions", (0.5, 1.0))
RATE_SHAPES = _rows("rate_shapes", ((3, 1), (10, 4), (25, 25), (64, 50), (100, 10), (7, 12)), 2)
_UNKNOWN = set(_CONFIGURED) - {"gradient_shapes", "follow_runs", "follow_diabetes", "full_batch_size",
                               "lr_fractions", "rate_shapes"}
if _UNKNOWN:
    raise config.ConfigError(f"{config.path()}: unknown key cases.{spec.ASSIGNMENT}.{sorted(_UNKNOWN)[0]}; expected "
                             "gradient_shapes, follow_runs, follow_diabetes, full_batch_size, lr_fractions, rate_shapes")


def _rounded(values, dtype: str) -> np.ndarray:
    """float64 numbers as the student's tensors hold them (rounded to nearest at float32)."""
    array = np.asarray(values, dtype=np.float64)
    return array.astype(np.float32).astype(np.float64) if dtype == "float32" else array.copy()


@dataclass(frozen=True)
class GradientCase:
    """Inputs of grad_w(X, y, w, b) or grad_b(X, y, w, b)."""

    label: str
    X: np.ndarray
    y: np.ndarray
    w: np.ndarray
    b: float
    dtype: str = "float64"
    w_form: str = "(d,)"
    b_form: str = "float"

    def effective(self):
        """X (n, d), y (n,), w (d,), b as float64, rounded through the dtype as the student sees them."""
        b = self.b if self.b_form == "float" else float(_rounded(self.b, self.dtype))
        return (_rounded(self.X, self.dtype), _rounded(self.y, self.dtype),
                _rounded(self.w, self.dtype).reshape(-1), b)


@dataclass(frozen=True)
class DescentCase(GradientCase):
    """Inputs of minibatch_sgd(X, y, w, b, lr, epochs, batch_size, seed)."""

    lr: float = reference.LR
    epochs: int = 1
    batch_size: int = 1
    seed: int = 0


@dataclass(frozen=True)
class RateCase:
    """Input of max_stable_lr(X)."""

    label: str
    X: np.ndarray
    dtype: str = "float64"

    def effective(self):
        return _rounded(self.X, self.dtype)


def as_plain(case) -> dict:
    """The case as plain data (lists and numbers): what the probe receives."""
    plain = {}
    for item in fields(case):
        value = getattr(case, item.name)
        plain[item.name] = value.tolist() if isinstance(value, np.ndarray) else value
    return plain


def cases_for(cell_id: str, seed: int | None = None) -> tuple:
    """One grade cell's cases (objects), the same for every student of a class."""
    return _cases(cell_id, seed_from_env(seed))


def cell_inputs(cell_id: str, seed: int | None = None) -> list[dict]:
    """One grade cell's cases as plain data, for the probe (which holds no case settings of its own)."""
    return [as_plain(case) for case in cases_for(cell_id, seed)]


def function_inputs(function: str, seed: int | None = None) -> dict[str, list[dict]]:
    """{cell_id: cases} for every grade cell of one function."""
    return {cell.id: cell_inputs(cell.id, seed) for cell in spec.cells_for(function)}


@functools.lru_cache(maxsize=64)
def _cases(cell_id: str, seed: int) -> tuple:
    function = spec.CELLS_BY_ID[cell_id].function
    rng = np.random.default_rng([seed, zlib.crc32(cell_id.encode())])
    if function in ("grad_w", "grad_b"):
        return tuple(_gradient_cases(cell_id, rng))
    if function == "minibatch_sgd":
        return tuple(_descent_cases(cell_id, rng))
    return tuple(_rate_cases(cell_id, rng))


# --- data ----------------------------------------------------------------------------------------

def lecture_arrays():
    """The lecture's points as float64 arrays: X (8, 1), y (8,)."""
    return np.asarray(data.X_LECTURE, dtype=float).reshape(-1, 1), np.asarray(data.Y_LECTURE, dtype=float)


def diabetes_arrays():
    """The diabetes data as float64 arrays: X (442, 10), y (442,)."""
    X, y = data.diabetes(dtype=torch.float64)
    return X.numpy().copy(), y.numpy().copy()


def random_data(rng: np.random.Generator, n: int, d: int):
    """X (n, d) with columns of different scales and offsets, y near a random plane."""
    scales = 10.0 ** rng.uniform(-1, 1, d)
    X = rng.normal(0, 1, (n, d)) * scales + rng.normal(0, 1, d) * scales
    w_true, b_true = rng.normal(0, 2, d) / scales, rng.normal(0, 2)
    y = X @ w_true + b_true + rng.normal(0, 0.5, n)
    return X, y


def _start(rng: np.random.Generator, X):
    """A starting w, b of the size that the data's columns suggest."""
    scales = np.std(X, axis=0) + np.abs(np.mean(X, axis=0)) + 1e-3
    return rng.normal(0, 2, X.shape[1]) / scales, float(rng.normal(0, 2))


# --- the gradient cells --------------------------------------------------------------------------

def _gradient_cases(cell_id: str, rng: np.random.Generator) -> list[GradientCase]:
    if cell_id.endswith("_lecture_data"):
        X, y = lecture_arrays()
        w = np.array(data.W_START)
        DX, Dy = diabetes_arrays()
        DX, Dy = DX[:DIABETES_SQUARE], Dy[:DIABETES_SQUARE]
        return [
            GradientCase("the lecture's data as d = 1, w = [0.9] of shape (1,), b = 0.1 a float",
                         X, y, w, data.B_START_VECTOR, "float32", "(d,)", "float"),
            GradientCase("the lecture's data as d = 1, w = [[0.9]] of shape (1, 1), b a shape-[1] tensor",
                         X, y, w, data.B_START_VECTOR, "float32", "(d, 1)", "shape-[1] tensor"),
            GradientCase(f"the diabetes data's first {DIABETES_SQUARE} patients (n = d = 10), w = 0, b = 0",
                         DX, Dy, np.zeros(DX.shape[1]), 0.0, "float32", "(d,)", "0-d tensor"),
        ]
    cases = []
    for index, (n, d) in enumerate(GRADIENT_SHAPES):
        X, y = random_data(rng, n, d)
        w, b = _start(rng, X)
        cases.append(_labelled(GradientCase("", X, y, w, b, ("float64", "float32")[index % 2],
                                            W_FORMS[(index // 2) % 2], PARAM_FORMS[index % 3]), "random data"))
    DX, Dy = diabetes_arrays()
    for index, rows in enumerate((40, DIABETES_SQUARE)):
        chosen = np.sort(rng.choice(len(Dy), rows, replace=False))
        w, b = _start(rng, DX)
        cases.append(_labelled(GradientCase("", DX[chosen], Dy[chosen], w, 150.0 + b, ("float32", "float64")[index],
                                            W_FORMS[index], PARAM_FORMS[index]), f"{rows} diabetes patients"))
    return cases


def _labelled(case, what: str):
    n, d = case.X.shape
    label = f"{what} (n={n}, d={d}), X {case.dtype}, w of shape {case.w_form.replace('d', str(d))}, b a {case.b_form}"
    return type(case)(**{**{f.name: getattr(case, f.name) for f in fields(case)}, "label": label})


# --- minibatch_sgd -------------------------------------------------------------------------------

def safe_lr(X, batch_size: int, epochs: int, seed: int) -> float:
    """The largest lr at which every batch of the reference run contracts: min over its batches of
    1 / lambda_max(H_batch). Then no batch's step amplifies an error (|1 - lr lambda| <= 1)."""
    n = len(X)
    largest = max(np.linalg.eigvalsh(reference.hessian(X[batch]))[-1]
                  for order in reference.epoch_orders(n, max(1, epochs), seed)
                  for batch in reference.batches(order, batch_size))
    return float(1.0 / largest)


def _descent_cases(cell_id: str, rng: np.random.Generator) -> list[DescentCase]:
    lr = reference.LR
    if cell_id == "minibatch_sgd_lecture_run":
        X, y = lecture_arrays()
        w = np.array(data.W_START)
        b = data.B_START_VECTOR
        n = len(y)
        DX, Dy = diabetes_arrays()
        DX, Dy = DX[:12], Dy[:12]
        d_lr = round(0.5 * safe_lr(DX, 4, 2, 1), 6)
        return [
            DescentCase(f"the lecture's first step (batch_size={n}, epochs=1)", X, y, w, b, "float32", "(d,)",
                        "float", lr, 1, n, 0),
            DescentCase(f"the lecture's run (batch_size={n}, epochs=1001)", X, y, w, b, "float32", "(d,)", "float",
                        lr, 1001, n, 0),
            DescentCase(f"the lecture's data in batches of {LECTURE_BATCH} (epochs=2, seed=0)", X, y, w, b,
                        "float32", "(d,)", "float", lr, 2, LECTURE_BATCH, 0),
            DescentCase(f"the diabetes data's first 12 patients in batches of 4, w of shape (10, 1) "
                        f"(lr={d_lr:g}, epochs=2, seed=1)",
                        DX, Dy, np.zeros(DX.shape[1]), 0.0, "float32", "(d, 1)", "float", d_lr, 2, 4, 1),
        ]
    if cell_id == "minibatch_sgd_full_batch":
        n, d = FULL_BATCH_SIZE
        X, y = random_data(rng, n, d)
        w, b = _start(rng, X)
        seed = int(rng.integers(0, 2 ** 31))
        lr = round(0.5 * reference.max_stable_lr(X), 8)
        cases = [DescentCase(f"random data (n={n}, d={d}), batch_size={n}, lr={lr:.4g}, epochs={k}", X, y, w, b,
                             "float64", "(d,)", "float", lr, k, n, seed) for k in (0, 1, 5)]
        cases.append(DescentCase(f"random data (n={n}, d={d}), batch_size={n + 5} > n, w of shape ({d}, 1), "
                                 f"lr={lr:.4g}, epochs=3", X, y, w, b, "float32", "(d, 1)", "0-d tensor",
                                 lr, 3, n + 5, seed))
        return cases
    cases = []
    for index, (n, d, batch_size, epochs) in enumerate(FOLLOW_RUNS):
        X, y = random_data(rng, n, d)
        w, b = _start(rng, X)
        seed = int(rng.integers(0, 2 ** 31))
        lr = float(np.round(rng.uniform(*LR_FRACTIONS) * safe_lr(X, batch_size, epochs, seed), 8))
        dtype, w_form, b_form = ("float64", "float32")[index % 2], W_FORMS[(index // 2) % 2], PARAM_FORMS[index % 3]
        cases.append(DescentCase(
            f"random data (n={n}, d={d}), batch_size={batch_size}, lr={lr:.4g}, epochs={epochs}, seed={seed}, "
            f"X {dtype}, w of shape {w_form.replace('d', str(d))}", X, y, w, b, dtype, w_form, b_form,
            lr, epochs, batch_size, seed))
    DX, Dy = diabetes_arrays()
    rows, batch_size, epochs = FOLLOW_DIABETES
    chosen = np.sort(rng.choice(len(Dy), rows, replace=False))
    X, y = DX[chosen], Dy[chosen]
    seed = int(rng.integers(0, 2 ** 31))
    lr = float(np.round(0.8 * safe_lr(X, batch_size, epochs, seed), 8))
    cases.append(DescentCase(f"{rows} diabetes patients, batch_size={batch_size}, lr={lr:.4g}, epochs={epochs}, "
                             f"seed={seed}", X, y, np.zeros(X.shape[1]), 150.0, "float32", "(d,)", "float",
                             lr, epochs, batch_size, seed))
    return cases


# --- max_stable_lr -------------------------------------------------------------------------------

def _rate_cases(cell_id: str, rng: np.random.Generator) -> list[RateCase]:
    DX, _ = diabetes_arrays()
    if cell_id == "max_stable_lr_lecture_data":
        X, _ = lecture_arrays()
        return [RateCase("the lecture's x as X (8, 1)", X, "float32"),
                RateCase(f"the diabetes data's first {DIABETES_RATE_ROWS} patients", DX[:DIABETES_RATE_ROWS],
                         "float32")]
    cases = []
    for index, (n, d) in enumerate(RATE_SHAPES):
        X, _ = random_data(rng, n, d)
        dtype = ("float64", "float32")[index % 2]
        cases.append(RateCase(f"random data (n={n}, d={d}), X {dtype}", X, dtype))
    cases.append(RateCase("the whole diabetes data (n=442, d=10), X float64", DX, "float64"))
    return cases
