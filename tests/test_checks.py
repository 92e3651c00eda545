"""The checks: probes and judge on tiny fixtures, one per behaviour."""
import textwrap

import numpy as np
import pytest
import torch

from autograder import judge, mistakes, probes, spec
from autograder.cases import descent_cases, gradient_cases
from autograder.checks import check, run_check
from examples.submissions import CORRECT

GRADIENT_CELLS = [cell.id for cell in spec.GRADE_CELLS if cell.function != "sgd"]
SGD_CELLS = [cell.id for cell in spec.GRADE_CELLS if cell.function == "sgd"]


def namespace_with(**sources):
    """Correct answers, with the given functions replaced by source text."""
    namespace = {}
    code = "import torch\n" + "\n".join(textwrap.dedent(sources.get(f, CORRECT[f])) for f in spec.FUNCTIONS)
    exec(code, namespace)
    return namespace


def results_for(namespace, function):
    return [run_check(cell.id, namespace) for cell in spec.cells_for(function)]


def test_correct_answers_earn_every_point():
    namespace = namespace_with()
    assert sum(run_check(cell.id, namespace).points for cell in spec.GRADE_CELLS) == spec.MAX_SCORE


# Each catalogued gradient mistake, written the way a student would, is named.
GRADIENT_MISTAKE_SOURCES = {
    ("dC_dm", "missing_two"): "def dC_dm(x, y, m, b):\n    return torch.mean((m * x + b - y) * x)\n",
    ("dC_dm", "missing_mean"): "def dC_dm(x, y, m, b):\n    return 2 * torch.sum((m * x + b - y) * x)\n",
    ("dC_dm", "double_mean"): "def dC_dm(x, y, m, b):\n    return 2 / len(y) * torch.mean((m * x + b - y) * x)\n",
    ("dC_dm", "sign_flipped"): "def dC_dm(x, y, m, b):\n    return 2 * torch.mean((y - m * x - b) * x)\n",
    ("dC_dm", "no_two_no_mean"): "def dC_dm(x, y, m, b):\n    return torch.sum((m * x + b - y) * x)\n",
    ("dC_dm", "missing_x"): "def dC_dm(x, y, m, b):\n    return 2 * torch.mean(m * x + b - y)\n",
    ("dC_dm", "per_instance"): "def dC_dm(x, y, m, b):\n    return 2 * (m * x + b - y) * x / len(y)\n",
    ("dC_dm", "broadcast_n_by_n"): "def dC_dm(x, y, m, b):\n    e = (m * x + b).reshape(-1, 1) - y\n    return 2 * torch.sum(e * x) / len(y)\n",
    ("dC_dm", "returns_cost"): "def dC_dm(x, y, m, b):\n    return torch.mean((m * x + b - y) ** 2)\n",
    ("dC_db", "has_x"): "def dC_db(x, y, m, b):\n    return 2 * torch.mean((m * x + b - y) * x)\n",
    ("dC_db", "sign_flipped"): "def dC_db(x, y, m, b):\n    return -2 * torch.mean(m * x + b - y)\n",
    ("dC_db", "per_instance"): "def dC_db(x, y, m, b):\n    return 2 * (m * x + b - y) / len(y)\n",
    ("dC_db", "not_finite"): "def dC_db(x, y, m, b):\n    return torch.sum(m * x + b - y) / 0.0\n",
    ("dC_db", "wrong_type"): "def dC_db(x, y, m, b):\n    return 'six'\n",
    ("dC_db", "returns_none"): "def dC_db(x, y, m, b):\n    2 * torch.mean(m * x + b - y)\n",
    ("dC_dyhat", "missing_two"): "def dC_dyhat(yhat, y):\n    return (yhat - y) / len(y)\n",
    ("dC_dyhat", "summed_over_instances"): "def dC_dyhat(yhat, y):\n    return 2 * torch.mean(yhat - y)\n",
    ("dC_dyhat", "squared_residual"): "def dC_dyhat(yhat, y):\n    return 2 * (yhat - y) ** 2 / len(y)\n",
    ("dC_dyhat", "shape"): "def dC_dyhat(yhat, y):\n    return (2 * (yhat - y) / len(y)).reshape(-1, 1)\n",
    ("dC_dyhat", "autograd"): ("def dC_dyhat(yhat, y):\n    yhat = yhat.detach().requires_grad_()\n"
                               "    torch.mean((yhat - y) ** 2).backward()\n    return yhat.grad\n"),
    ("dC_db", "autograd"): ("def dC_db(x, y, m, b):\n    b = torch.tensor(float(b), dtype=x.dtype, requires_grad=True)\n"
                            "    return torch.autograd.grad(torch.mean((m * x + b - y) ** 2), b)[0]\n"),
    ("dC_dm", "error"): "def dC_dm(x, y, m, b):\n    return 2 * torch.mean((m.item() * x + b - y) * x)\n",
    ("dC_dm", "timeout"): "def dC_dm(x, y, m, b):\n    while True:\n        pass\n",
    ("dC_dm", "not_implemented"): "def dC_dm(x, y, m, b):\n    raise NotImplementedError()\n",
}


@pytest.mark.parametrize("function, mistake", sorted(GRADIENT_MISTAKE_SOURCES))
def test_gradient_mistake_is_named(monkeypatch, function, mistake):
    if mistake == "timeout":
        monkeypatch.setitem(probes.CALL_SECONDS, function, 0.5)
    namespace = namespace_with(**{function: GRADIENT_MISTAKE_SOURCES[function, mistake]})
    results = results_for(namespace, function)
    assert all(r.points < r.max_points for r in results)
    assert mistake in {r.mistake for r in results}, [r.message for r in results]
    sentence = judge._sentence(function, mistake)
    assert any(sentence in r.message for r in results)
    # No double penalty: the other functions keep all their points.
    for other in spec.FUNCTIONS:
        if other != function:
            assert all(r.passed for r in results_for(namespace, other)), other


def test_every_catalogued_formula_has_a_distinct_effect():
    """Each formula differs from the right answer on some case of the visible check (so it can be told apart)."""
    for mistake in mistakes.GRADIENT_MISTAKES:
        for function in mistake.functions:
            differs = False
            for case in gradient_cases(f"{function}_lecture_data"):
                inputs = case.effective()
                wrong = np.asarray(mistake.formula(*inputs, function), dtype=float)
                right = np.asarray(mistakes.correct_gradient(function, *inputs), dtype=float)
                differs = differs or wrong.shape != right.shape or not np.allclose(wrong, right)
            assert differs, (mistake.id, function)


SGD_MISTAKE_SOURCES = {
    "off_by_one_more": "for _ in range(epochs + 1):\n        gm, gb = dC_dm(x, y, m, b), dC_db(x, y, m, b)\n        m, b = m - lr * gm, b - lr * gb",
    "off_by_one_fewer": "for _ in range(1, epochs):\n        gm, gb = dC_dm(x, y, m, b), dC_db(x, y, m, b)\n        m, b = m - lr * gm, b - lr * gb",
    "sequential_update": "for _ in range(epochs):\n        m = m - lr * dC_dm(x, y, m, b)\n        b = b - lr * dC_db(x, y, m, b)",
    "gradient_ascent": "for _ in range(epochs):\n        gm, gb = dC_dm(x, y, m, b), dC_db(x, y, m, b)\n        m, b = m + lr * gm, b + lr * gb",
    "missing_lr": "for _ in range(epochs):\n        gm, gb = dC_dm(x, y, m, b), dC_db(x, y, m, b)\n        m, b = m - gm, b - gb",
    "ignores_lr": "for _ in range(epochs):\n        gm, gb = dC_dm(x, y, m, b), dC_db(x, y, m, b)\n        m, b = m - 0.01 * gm, b - 0.01 * gb",
    "closed_form": "A = torch.stack([x, torch.ones_like(x)], 1).double()\n    s = torch.linalg.lstsq(A, y.double()[:, None]).solution\n    m, b = s[0, 0], s[1, 0]",
    "hard_coded": "m, b = -0.4681258499622345, 1.7542961835861206",
    "unchanged": "pass",
    "swapped": "for _ in range(epochs):\n        gm, gb = dC_dm(x, y, m, b), dC_db(x, y, m, b)\n        m, b = m - lr * gm, b - lr * gb\n    m, b = b, m",
}


@pytest.mark.parametrize("mistake", sorted(SGD_MISTAKE_SOURCES))
def test_sgd_mistake_is_named(mistake):
    source = f"def sgd(x, y, m, b, lr=0.01, epochs=1000):\n    {SGD_MISTAKE_SOURCES[mistake]}\n    return m, b\n"
    namespace = namespace_with(sgd=source)
    results = results_for(namespace, "sgd")
    assert sum(r.points for r in results) < sum(c.points for c in spec.cells_for("sgd"))
    assert mistake in {r.mistake for r in results}, [r.message for r in results]
    # Its gradients are not charged.
    for other in ("dC_dyhat", "dC_dm", "dC_db"):
        assert all(r.passed for r in results_for(namespace, other))


def test_sgd_is_graded_with_the_reference_gradients():
    """A wrong dC_dm does not cost sgd's points: the reference stands in for it."""
    namespace = namespace_with(dC_dm="def dC_dm(x, y, m, b):\n    return 0.0\n")
    assert all(r.passed for r in results_for(namespace, "sgd"))
    assert namespace["dC_dm"](None, None, None, None) == 0.0  # restored afterwards


def test_sgd_autograd_earns_nothing():
    source = ("def sgd(x, y, m, b, lr=0.01, epochs=1000):\n"
              "    m = torch.tensor(float(m), dtype=x.dtype, requires_grad=True)\n"
              "    b = torch.tensor(float(b), dtype=x.dtype, requires_grad=True)\n"
              "    opt = torch.optim.SGD([m, b], lr=lr)\n"
              "    for _ in range(epochs):\n"
              "        opt.zero_grad(); torch.mean((m * x + b - y) ** 2).backward(); opt.step()\n"
              "    return m.item(), b.item()\n")
    results = results_for(namespace_with(sgd=source), "sgd")
    assert all(r.points == 0 and r.mistake == "autograd" for r in results)


@pytest.mark.parametrize("returns", ["float(g)", "g.reshape(1)", "g.reshape(())", "g.numpy()", "g.numpy()[()]",
                                     "np.float32(g.item())"])
def test_any_scalar_return_form_is_accepted(returns):
    source = (f"import numpy as np\ndef dC_db(x, y, m, b):\n    g = 2 * torch.mean(m * x + b - y)\n"
              f"    return {returns}\n")
    results = results_for(namespace_with(dC_db=source), "dC_db")
    # np.float32 rounds the float64 answer: right in the precision it returns.
    assert all(r.passed for r in results), [r.message for r in results]


def test_mutating_the_inputs_changes_nothing():
    source = "def dC_db(x, y, m, b):\n    g = 2 * torch.mean(m * x + b - y)\n    y.zero_(); x.zero_()\n    return g\n"
    namespace = namespace_with(dC_db=source)
    assert all(r.passed for r in results_for(namespace, "dC_db"))
    assert all(r.passed for r in results_for(namespace, "dC_dm"))


def test_noisy_student_code_writes_nothing_to_stderr(capfd):
    source = ("import sys, warnings\ndef dC_db(x, y, m, b):\n    print('debug', file=sys.stderr)\n"
              "    warnings.warn('careful')\n    import os; os.write(2, b'raw fd 2')\n"
              "    return 2 * torch.mean(m * x + b - y)\n")
    namespace = namespace_with(dC_db=source)
    assert check("dC_db_lecture_data", namespace) == 1
    captured = capfd.readouterr()
    assert captured.err == ""
    assert "[PASS] dC_db_lecture_data" in captured.out


def test_one_form_failing_gets_partial_credit_and_says_which():
    source = "def dC_dm(x, y, m, b):\n    m = m.reshape(())\n    return 2 * torch.mean((m * x + b - y) * x)\n"
    result = run_check("dC_dm_matches_autograd", namespace_with(dC_dm=source))
    assert 0 < result.points < result.max_points
    assert "when m and b are floats" in result.message


def test_crash_inside_a_function_costs_only_that_function():
    source = "def sgd(x, y, m, b, lr=0.01, epochs=1000):\n    import os\n    os._exit(3)\n"
    namespace = namespace_with(sgd=source)
    results = results_for(namespace, "sgd")
    assert all(r.points == 0 and r.mistake == "exit" for r in results)
    assert all(r.passed for r in results_for(namespace, "dC_dm"))


def test_segfault_and_abort_are_crashes():
    for body in ("import ctypes\n    ctypes.string_at(0)", "import os\n    os.abort()"):
        namespace = namespace_with(dC_db=f"def dC_db(x, y, m, b):\n    {body}\n")
        assert {r.mistake for r in results_for(namespace, "dC_db")} == {"crash"}


def test_an_endless_loop_costs_one_time_limit(monkeypatch):
    import time

    monkeypatch.setitem(probes.CALL_SECONDS, "sgd", 0.5)
    source = "def sgd(x, y, m, b, lr=0.01, epochs=1000):\n    while True:\n        pass\n"
    namespace = namespace_with(sgd=source)
    started = time.perf_counter()
    results = results_for(namespace, "sgd")
    assert time.perf_counter() - started < 4
    assert sum(r.points for r in results) == 0
    assert {r.mistake for r in results} == {"timeout"}


def test_a_loop_that_ignores_the_alarm_is_killed(monkeypatch):
    from autograder import checks

    monkeypatch.setattr(checks, "CHILD_SECONDS", 1.5)
    source = ("import signal\ndef dC_dm(x, y, m, b):\n    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
              "    while True:\n        pass\n")
    namespace = namespace_with(dC_dm=source)
    results = results_for(namespace, "dC_dm")
    assert {r.mistake for r in results} == {"timeout"}
    assert all(r.passed for r in results_for(namespace, "dC_db"))


def test_memory_blow_up_is_stopped():
    source = "def dC_db(x, y, m, b):\n    hog = torch.ones(6 * 2**30, dtype=torch.uint8)\n    return hog.sum()\n"
    results = results_for(namespace_with(dC_db=source), "dC_db")
    assert all(r.points == 0 for r in results)
    assert any("memory" in r.message.lower() for r in results), [r.message for r in results]


def test_cases_are_reproducible_and_change_with_the_seed():
    a = gradient_cases("dC_dm_matches_autograd", seed=1)
    b = gradient_cases("dC_dm_matches_autograd", seed=1)
    c = gradient_cases("dC_dm_matches_autograd", seed=2)
    assert all(np.array_equal(p.x, q.x) for p, q in zip(a, b))
    assert not np.array_equal(a[-1].x, c[-1].x)
    sizes = [len(case.x) for case in a]
    assert min(sizes) == 1 and max(sizes) > 200
    assert {case.dtype for case in a} == {"float32", "float64"}
    assert {case.form for case in a} == set(probes_forms())


def probes_forms():
    from autograder.cases import PARAM_FORMS
    return PARAM_FORMS


def test_descent_cases_tell_the_closed_form_from_descent():
    from autograder import reference

    for case in descent_cases("sgd_converges"):
        end = reference.descent(case.x, case.y, case.m, case.b, case.lr, case.epochs).final()
        optimum = reference.least_squares(case.x, case.y)
        assert max(abs(end[0] - optimum[0]), abs(end[1] - optimum[1])) > 1e-3, case.label


def test_missing_function_is_named():
    namespace = namespace_with()
    del namespace["sgd"]
    results = results_for(namespace, "sgd")
    assert {r.mistake for r in results} == {"missing"}
    assert "sgd is not defined" in results[0].message


def test_a_check_after_the_kernel_used_torchs_thread_pool_does_not_hang():
    """A forked check child entering torch's thread pool, which the kernel used, waits forever for threads it lacks."""
    import torch

    from autograder import checks
    from examples.vector_submissions import CORRECT
    if torch.get_num_threads() < 2:
        torch.set_num_threads(2)
    matrix = torch.randn(400, 400, dtype=torch.float64)
    torch.linalg.eigvalsh(matrix @ matrix.T)          # the pool is busy in this process now
    namespace: dict = {}
    exec("import torch\n" + CORRECT["max_stable_lr"], namespace)
    probe, failure = checks.probe_in_child(namespace, "max_stable_lr_lecture_data", seconds=30)
    assert failure is None and probe["cases"] and all("output" in case for case in probe["cases"]), (failure, probe)
