"""The inputs every check runs on, rebuilt from a seed: the lecture's and random ones.

Cases hold plain numbers (float64 numpy arrays and floats) plus how they are
handed to the student (dtype, and m/b as float, 0-d or shape-[1] tensor), so
the untrusted side can build the tensors and the trusted side can compute
what they should give, each from the same seed. Expected values are never
stored: the judge computes them live with torch autograd.
"""
from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass, fields

import numpy as np
import torch

from autograder import config, inputs, reference, spec
from autograder.config import seed_from_env  # noqa: F401  (the judge's, batch's and Gradescope's)
from autograder.inputs import DTYPES, PARAM_FORMS  # noqa: F401

# The numbers below are course.toml's [cases].
_CASES = config.settings()["cases"]
# The visible checks' second data set: the lecture's first points, and a second lr.
SUBSET = _CASES["subset"]
SUBSET_LR = _CASES["subset_lr"]
# The hidden gradient checks' random data: (n, x scale) pairs.
GRADIENT_SIZES = tuple(zip(_CASES["gradient_sizes"], _CASES["gradient_scales"]))
# sgd_converges' random runs: (n, lr as a fraction of the largest stable lr).
CONVERGES_RUNS = tuple(zip(_CASES["converges_sizes"], _CASES["converges_lr_fractions"]))
# sgd_converges' epochs = VALLEY_TAUS time constants of the valley's floor (see _valley_start).
VALLEY_TAUS = _CASES["valley_taus"]
VALLEY_MIN_EPOCHS, VALLEY_MAX_EPOCHS = _CASES["valley_min_epochs"], _CASES["valley_max_epochs"]


@dataclass(frozen=True)
class GradientCase:
    """Inputs for dC_dyhat, dC_dm or dC_db."""

    label: str
    x: np.ndarray
    y: np.ndarray
    m: float
    b: float
    dtype: str = "float64"
    form: str = "float"

    def tensors(self):
        """(x, y, m, b) as the student receives them: fresh copies every call."""
        return _tensors(self)

    def y_hat(self) -> torch.Tensor:
        """y_hat at the case's dtype, as the lecture's forward pass makes it."""
        x, _, m, b = self.tensors()
        return reference.predict(x, m, b).reshape(-1)

    def effective(self):
        """x, y, m, b, y_hat as float64 numpy, rounded through the case's dtype as the student sees them."""
        x, y, m, b = self.tensors()
        as64 = lambda t: t.detach().double().numpy() if isinstance(t, torch.Tensor) else np.float64(t)
        return (as64(x), as64(y), float(np.asarray(as64(m)).reshape(())),
                float(np.asarray(as64(b)).reshape(())), as64(self.y_hat()))


@dataclass(frozen=True)
class DescentCase:
    """Inputs for one call of sgd(x, y, m, b, lr=..., epochs=...)."""

    label: str
    x: np.ndarray
    y: np.ndarray
    m: float
    b: float
    lr: float
    epochs: int
    dtype: str = "float64"
    form: str = "float"

    def tensors(self):
        """(x, y, m, b) as the student receives them: fresh copies every call."""
        return _tensors(self)

    def effective(self):
        """x, y, m, b as float64 numpy after rounding through the case's dtype."""
        x, y, m, b = self.tensors()
        scalar = lambda v: float(v.double().reshape(-1)[0]) if isinstance(v, torch.Tensor) else float(v)
        return x.double().numpy(), y.double().numpy(), scalar(m), scalar(b)


def _tensors(case):
    return inputs.tensors(case)


def as_plain(case) -> dict:
    """The case as plain data (lists and numbers), what is sent to the sandbox."""
    plain = {}
    for item in fields(case):
        value = getattr(case, item.name)
        plain[item.name] = value.tolist() if isinstance(value, np.ndarray) else value
    return plain


def cell_inputs(cell_id: str, seed: int | None = None) -> list[dict]:
    """One grade cell's cases as plain data, for the probe (which holds no case settings of its own)."""
    cell = spec.CELLS_BY_ID[cell_id]
    made = descent_cases(cell_id, seed) if cell.function == "sgd" else gradient_cases(cell_id, seed)
    return [as_plain(case) for case in made]


def function_inputs(function: str, seed: int | None = None) -> dict[str, list[dict]]:
    """{cell_id: cases} for every grade cell of one function."""
    return {cell.id: cell_inputs(cell.id, seed) for cell in spec.cells_for(function)}


def _lecture_arrays():
    return np.array(reference.X_LECTURE), np.array(reference.Y_LECTURE)


def _random_line_data(rng: np.random.Generator, n: int, scale: float, offset: float = 0.0):
    """n points near a random line, x spread over [offset - scale, offset + scale]."""
    x = offset + rng.uniform(-scale, scale, n)
    slope, intercept = rng.normal(0, 2), rng.normal(0, scale)
    y = slope * x + intercept + rng.normal(0, 0.3 * scale, n)
    return x, y


def gradient_cases(cell_id: str, seed: int | None = None) -> list[GradientCase]:
    """The cases of one gradient grade cell (dC_dyhat_*, dC_dm_*, dC_db_*)."""
    return list(_gradient_cases(cell_id, seed_from_env(seed)))


@functools.lru_cache(maxsize=64)
def _gradient_cases(cell_id: str, seed: int) -> tuple[GradientCase, ...]:
    # Kept: every student of a class is probed and judged on the same cases.
    return tuple(_build_gradient_cases(cell_id, seed))


def _build_gradient_cases(cell_id: str, seed: int) -> list[GradientCase]:
    if cell_id.endswith("_lecture_data"):
        x, y = _lecture_arrays()
        cases = [GradientCase(f"the lecture's data, m and b as {form}s", x, y,
                              reference.M_START, reference.B_START, "float32", form)
                 for form in ("shape-[1] tensor", "float")]
        if not cell_id.startswith("dC_dyhat"):
            # Other data than the notebook's own x and y, so that a function reading
            # those instead of its arguments cannot pass the visible check.
            cases.append(GradientCase(f"the lecture's first {SUBSET} points, m and b as 0-d tensors",
                                      x[:SUBSET], y[:SUBSET], reference.M_START, reference.B_START,
                                      "float32", "0-d tensor"))
        return cases
    rng = np.random.default_rng([seed_from_env(seed), _cell_salt(cell_id)])
    cases = []
    for index, (n, scale) in enumerate(GRADIENT_SIZES):
        x, y = _random_line_data(rng, n, scale)
        m, b = rng.normal(0, 3), rng.normal(0, 3)
        dtype = "float64" if index % 2 == 0 else "float32"
        form = PARAM_FORMS[index % 3]
        label = f"random data, n={n}, x up to {scale:g}, {dtype}, m and b as {form}s"
        cases.append(GradientCase(label, x, y, m, b, dtype, form))
    return cases


def descent_cases(cell_id: str, seed: int | None = None) -> list[DescentCase]:
    """The sgd calls of one sgd grade cell."""
    return list(_descent_cases(cell_id, seed_from_env(seed)))


@functools.lru_cache(maxsize=64)
def _descent_cases(cell_id: str, seed: int) -> list[DescentCase]:
    # Kept, like the gradient cases: every student of a class is probed and judged on the same
    # cases (and the judge keeps each case's reference run by the case). Callers get a copy.
    lr = reference.LR
    if cell_id == "sgd_lecture_run":
        x, y = _lecture_arrays()
        start = (reference.M_START, reference.B_START)
        return [
            DescentCase("the lecture's first step (epochs=1)", x, y, *start, lr, 1, "float32", "shape-[1] tensor"),
            DescentCase(f"the lecture's run (epochs={reference.LECTURE_STEPS})", x, y, *start, lr,
                        reference.LECTURE_STEPS, "float32", "shape-[1] tensor"),
            # Another lr and other data than the notebook's x and y: an sgd that ignores
            # either cannot pass the visible check.
            DescentCase(f"the lecture's first {SUBSET} points, lr={SUBSET_LR:g}, epochs=1", x[:SUBSET], y[:SUBSET],
                        *start, SUBSET_LR, 1, "float32", "shape-[1] tensor"),
        ]
    rng = np.random.default_rng([seed_from_env(seed), _cell_salt(cell_id)])
    if cell_id == "sgd_first_steps":
        n = _CASES["first_steps_size"]
        x, y = _random_line_data(rng, n, 2.0)
        m, b = rng.normal(0, 2), rng.normal(0, 2)
        lr = _CASES["first_steps_lr_fraction"] * reference.max_stable_lr(x)
        cases = [DescentCase(f"random data (n={n}), lr={lr:.4g}, epochs={k}", x, y, m, b, lr, k)
                 for k in (0, 1, 2, 3)]
        cases.append(DescentCase(f"random data (n={n}), lr={lr:.4g}, epochs=2, m and b as 0-d tensors",
                                 x, y, m, b, lr, 2, "float64", "0-d tensor"))
        return cases
    if cell_id == "sgd_cost_decreases":
        n = _CASES["cost_decreases_size"]
        x, y = _random_line_data(rng, n, 1.5)
        m, b = rng.normal(0, 2), rng.normal(0, 2)
        lr = _CASES["cost_decreases_lr_fraction"] * reference.max_stable_lr(x)
        return [DescentCase(f"random data (n={n}), lr={lr:.4g}, epochs={k}", x, y, m, b, lr, k)
                for k in range(0, _CASES["cost_decreases_epochs"] + 1)]
    if cell_id == "sgd_converges":
        cases = []
        for n, fraction in CONVERGES_RUNS:
            x, y = _random_line_data(rng, n, 1.0, offset=1.0)
            lr = fraction * reference.max_stable_lr(x)
            m, b, epochs = _valley_start(rng, x, y, lr)
            cases.append(DescentCase(f"random data (n={n}), lr={lr:.4g}, epochs={epochs}", x, y, m, b, lr, epochs))
        return cases
    raise KeyError(f"no descent cases for {cell_id!r}")


def _valley_start(rng: np.random.Generator, x, y, lr: float) -> tuple[float, float, int]:
    """(m, b, epochs): a start far along the cost's long valley, and enough epochs to come most of the way.

    Descent closes the gap along the valley's floor by a factor 1 - lr lambda_min
    per step, tau = 1 / (lr lambda_min) steps per factor e. After
    VALLEY_TAUS * tau epochs the end point is still measurably short of the
    least-squares optimum, and one step more or less, or an update of m before
    b, still moves it by more than float32 rounding of the whole run can
    (autograder.tolerance.run_bound): every catalogued sgd mistake is told apart.
    """
    eigenvalues, vectors = np.linalg.eigh(reference.hessian(x))
    optimum = np.array(reference.least_squares(x, y))
    size = 1.0 + float(np.max(np.abs(optimum)))
    along = rng.uniform(1.0, 2.0) * rng.choice([-1.0, 1.0])
    m, b = optimum + size * (along * vectors[:, 0] + rng.normal(0.0, 1.0) * vectors[:, 1])
    tau = 1.0 / (lr * eigenvalues[0])
    epochs = int(min(VALLEY_MAX_EPOCHS, max(VALLEY_MIN_EPOCHS, round(VALLEY_TAUS * tau))))
    return float(m), float(b), epochs


def _cell_salt(cell_id: str) -> int:
    """A stable per-cell number (Python's hash() changes between runs)."""
    return zlib.crc32(cell_id.encode())
