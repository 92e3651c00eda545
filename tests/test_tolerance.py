"""autograder.tolerance: the rounding bounds hold for float32 arithmetic, and the precision rule."""
import numpy as np
import pytest
import torch

from autograder import reference, tolerance


def test_precision_is_float32_whatever_the_dtypes_say():
    assert tolerance.precision("float64", "float64") == "float32"     # may be a widened float32 result
    assert tolerance.precision("float64", None) == "float32"
    assert tolerance.precision("float32", "float64") == "float32"
    # the result's dtype comes from the student's side: it cannot loosen the check
    assert tolerance.precision("float64", "float16") == "float32"
    assert tolerance.precision("float64", "bfloat16") == "float32"
    assert tolerance.precision("float64", "int", "object") == "float32"


def test_a_forged_half_precision_dtype_earns_nothing_more():
    from autograder import judge
    from autograder.cases import gradient_cases

    cell = "dC_dm_matches_autograd"
    case = gradient_cases(cell, 0)[-1]
    record = {"output": {"type": "torch.Tensor", "dtype": "bfloat16", "shape": [], "values": [0.0]}}
    assert not judge._classify_gradient("dC_dm", cell, 0, len(gradient_cases(cell, 0)) - 1, case, record).passed


def test_relative_error_is_the_house_measure():
    assert tolerance.relative_error(1.0, 3.0) == pytest.approx(0.5)
    assert tolerance.relative_error(0.0, 0.0) == 0.0


def _data(rng, n, cancel):
    """Random data; with ``cancel`` the line fits it almost exactly, so the gradient is a sum that cancels."""
    x = rng.uniform(-1, 1, n) * 10 ** rng.uniform(-2, 2) + rng.normal(0, 3)
    m, b = rng.normal(0, 3), rng.normal(0, 3)
    noise = 1e-6 if cancel else 1.0
    y = m * x + b + rng.normal(0, noise, n) * (1 + np.abs(x))
    return x, y, m + rng.normal(0, noise), b


@pytest.mark.parametrize("cancel", [False, True])
def test_float32_gradients_stay_within_the_bound(cancel):
    rng = np.random.default_rng(7)
    for _ in range(300):
        n = int(rng.integers(1, 400))
        x, y, m, b = _data(rng, n, cancel)
        y_hat = m * x + b
        for function in ("dC_dyhat", "dC_dm", "dC_db"):
            if function == "dC_dyhat":
                truth = 2 * (y_hat - y) / n
                x32, y32 = torch.tensor(y_hat, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
                got = (2 * (x32 - y32) / n).double().numpy()
            else:
                truth = 2 * np.sum((y_hat - y) * (x if function == "dC_dm" else 1)) / n
                x32, y32 = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
                gradient = reference.dC_dm if function == "dC_dm" else reference.dC_db
                got = gradient(x32, y32, float(np.float32(m)), float(np.float32(b))).item()
                # and summed one term at a time, the worst order
                terms = (np.float32(m) * x.astype(np.float32) + np.float32(b) - y.astype(np.float32))
                terms = terms * (x.astype(np.float32) if function == "dC_dm" else np.float32(1))
                total = np.float32(0)
                for term in terms:
                    total = np.float32(total + term)
                sequential = float(np.float32(2) * total / np.float32(n))
                bound = tolerance.gradient_bound(function, x, y, m, b, y_hat, "float32")
                assert abs(sequential - truth) <= bound, (function, n, sequential, truth, bound)
            bound = tolerance.gradient_bound(function, x, y, m, b, y_hat, "float32")
            assert np.all(np.abs(np.asarray(got) - truth) <= bound), (function, n)


def test_float32_descent_stays_within_the_run_bound():
    rng = np.random.default_rng(3)
    for _ in range(40):
        n = int(rng.integers(2, 60))
        x = rng.uniform(-2, 2, n) + rng.normal(0, 2)
        y = rng.normal(0, 1) * x + rng.normal(0, 1, n)
        lr = rng.uniform(0.1, 0.9) * reference.max_stable_lr(x)
        epochs = int(rng.integers(0, 1200))
        m0, b0 = rng.normal(0, 2), rng.normal(0, 2)
        m_path, b_path = reference.descent_path(x, y, m0, b0, lr, epochs)
        run32 = reference.descent(torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32),
                                  m0, b0, lr, epochs, dtype=torch.float32)
        bound = tolerance.run_bound(x, y, m_path, b_path, lr, "float32")
        error = max(abs(run32.m[-1] - m_path[-1]), abs(run32.b[-1] - b_path[-1]))
        assert error <= bound, (n, lr, epochs, error, bound)


def test_one_float32_step_stays_within_the_step_bound():
    rng = np.random.default_rng(4)
    for _ in range(300):
        n = int(rng.integers(1, 100))
        x, y = rng.normal(0, 3, n) + rng.normal(0, 3), rng.normal(0, 3, n)
        m, b, lr = rng.normal(0, 3), rng.normal(0, 3), rng.uniform(0.01, 1.0) * reference.max_stable_lr(x)
        m_path, b_path = reference.descent_path(x, y, m, b, lr, 1)
        step = reference.descent(torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32),
                                 m, b, lr, 1, dtype=torch.float32)
        bound_m, bound_b = tolerance.step_bound(x, y, m, b, lr, "float32")
        assert abs(step.m[1] - m_path[1]) <= bound_m and abs(step.b[1] - b_path[1]) <= bound_b
