"""Fair grades over many seeds: float32 answers keep every point, every catalogued mistake earns none.

Probed and judged in this process (no nbgrader, no sandbox, no fork), as
``msegrad grade``'s worker and judge do it, on SEEDS seeds each.
"""
import textwrap

import numpy as np
import pytest

from autograder import judge, mistakes, probes, spec
from autograder.cases import cell_inputs, descent_cases, gradient_cases
from examples.submissions import CORRECT

SEEDS = range(200)
# The cells whose cases do not depend on the seed: judged once, not once per seed.
FIXED_CELLS = {"dC_dyhat_lecture_data", "dC_dm_lecture_data", "dC_db_lecture_data", "sgd_lecture_run"}


def student(**sources) -> dict:
    """The notebook's set-up cell (the lecture's x and y as globals) and correct answers, some replaced."""
    code = ("import numpy as np\nimport torch\nfrom autograder.data import lecture_data\nx, y = lecture_data()\n"
            + "\n".join(textwrap.dedent(sources.get(f, CORRECT[f])) for f in spec.FUNCTIONS))
    namespace: dict = {}
    exec(code, namespace)
    return namespace


def graded(answers: dict, function: str, seeds=SEEDS) -> dict:
    """{answer name: {cell id: [CheckResult per seed]}} for sources of ``function`` (the fixed cells
    judged once). Seeds outermost: every answer is judged on one seed's cases while the judge
    still holds them."""
    namespaces = {name: student(**{function: source}) for name, source in answers.items()}
    results: dict = {name: {} for name in answers}
    for seed in seeds:
        for cell in spec.cells_for(function):
            if cell.id in FIXED_CELLS and seed != seeds[0]:
                continue
            for name, namespace in namespaces.items():
                probe = probes.probe_cell(namespace, cell.id, cell_inputs(cell.id, seed))
                results[name].setdefault(cell.id, []).append(judge.judge_cell(cell.id, probe, seed=seed))
    return results


# --- float32 arithmetic, as honest students write it ------------------------------------------

FLOAT32_ANSWERS = {
    "dC_dyhat": {
        "torch .float()": "def dC_dyhat(yhat, y):\n    return 2 * (yhat.float() - y.float()) / len(y)\n",
        "numpy float32": ("def dC_dyhat(yhat, y):\n"
                          "    e = np.asarray(yhat, dtype=np.float32) - np.asarray(y, dtype=np.float32)\n"
                          "    return 2 * e / len(y)\n"),
    },
    "dC_dm": {
        "torch .float()": ("def dC_dm(x, y, m, b):\n    x, y = x.float(), y.float()\n"
                           "    return 2 * torch.sum((m * x + b - y) * x) / len(y)\n"),
        "torch .float(), returned as a Python float": (
            "def dC_dm(x, y, m, b):\n    yhat = m * x.float() + b\n"
            "    return float(2 * torch.mean((yhat - y.float()) * x.float()))\n"),
        "numpy float32": ("def dC_dm(x, y, m, b):\n"
                          "    x, y = np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float32)\n"
                          "    m, b = np.float32(float(m)), np.float32(float(b))\n"
                          "    return 2 * np.mean((m * x + b - y) * x)\n"),
        "numpy float32, summed one by one": (
            "def dC_dm(x, y, m, b):\n    total = np.float32(0)\n"
            "    for xi, yi in zip(np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float32)):\n"
            "        total += (np.float32(float(m)) * xi + np.float32(float(b)) - yi) * xi\n"
            "    return 2 * total / len(y)\n"),
    },
    "dC_db": {
        "torch .float()": "def dC_db(x, y, m, b):\n    return 2 * torch.mean(m * x.float() + b - y.float())\n",
        "numpy float32": ("def dC_db(x, y, m, b):\n"
                          "    x, y = np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float32)\n"
                          "    return 2 * np.mean(np.float32(float(m)) * x + np.float32(float(b)) - y)\n"),
    },
    "sgd": {
        "torch float32, returned stacked": (
            "def sgd(x, y, m, b, lr=0.01, epochs=1000):\n    x, y = x.float(), y.float()\n"
            "    m, b = torch.tensor(float(m)), torch.tensor(float(b))\n"
            "    for _ in range(epochs):\n        gm, gb = dC_dm(x, y, m, b), dC_db(x, y, m, b)\n"
            "        m, b = m - lr * gm, b - lr * gb\n    return torch.stack([m, b])\n"),
        "numpy float32, own gradient, returned as an array": (
            "def sgd(x, y, m, b, lr=0.01, epochs=1000):\n"
            "    x, y = np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float32)\n"
            "    m, b, lr = np.float32(float(m)), np.float32(float(b)), np.float32(lr)\n"
            "    for _ in range(epochs):\n        e = m * x + b - y\n"
            "        m, b = m - lr * 2 * np.mean(e * x), b - lr * 2 * np.mean(e)\n"
            "    return np.array([m, b])\n"),
    },
}


@pytest.mark.parametrize("function", spec.FUNCTIONS)
def test_float32_answers_keep_every_point_on_every_seed(function):
    for style, results in graded(FLOAT32_ANSWERS[function], function).items():
        lost = [(cell_id, r.message) for cell_id, rs in results.items() for r in rs if not r.passed]
        assert not lost, (style, lost[:3])


# --- every catalogued mistake, as students write it --------------------------------------------

def _gradient(function: str, body: str) -> str:
    signature = "dC_dyhat(yhat, y)" if function == "dC_dyhat" else f"{function}(x, y, m, b)"
    return f"def {signature}:\n    " + body.replace("\n", "\n    ") + "\n"


# The residual's factor (x_i for dC/dm, 1 for dC/db, none for dC/dy_hat), as each function writes it.
_TERMS = {"dC_dyhat": "(yhat - y)", "dC_dm": "(m * x + b - y) * x", "dC_db": "(m * x + b - y)"}
_SUM = {"dC_dyhat": "{}", "dC_dm": "torch.sum({})", "dC_db": "torch.sum({})"}


def _formula(function: str, template: str) -> str:
    """A body from a template over {s}, the function's sum of residual terms (or vector for dC/dy_hat)."""
    return "return " + template.format(s=_SUM[function].format(_TERMS[function]))


GRADIENT_MISTAKE_ANSWERS = {
    (f, mistake): _gradient(f, _formula(f, template))
    for f in ("dC_dyhat", "dC_dm", "dC_db")
    for mistake, template in {
        "missing_two": "{s} / len(y)",
        "missing_mean": "2 * {s}",
        "double_mean": "2 * {s} / len(y) / len(y)",
        "sign_flipped": "-2 * {s} / len(y)",
        "no_two_no_mean": "{s}",
        "n_minus_one": "2 * {s} / (len(y) - 1)",
        "integer_division": "2 // len(y) * {s}",
        "missing_two+sign_flipped": "-{s} / len(y)",
        "missing_mean+sign_flipped": "-2 * {s}",
    }.items()
}
GRADIENT_MISTAKE_ANSWERS.update({
    ("dC_dm", "integer_division"): _gradient("dC_dm", "return 2 * torch.sum((m * x + b - y) * x) // len(y)"),
    ("dC_dyhat", "squared_residual"): _gradient("dC_dyhat", "return 2 * (yhat - y) ** 2 / len(y)"),
    ("dC_dyhat", "summed_over_instances"): _gradient("dC_dyhat", "return 2 * torch.mean(yhat - y)"),
    ("dC_dyhat", "returns_cost"): _gradient("dC_dyhat", "return torch.mean((yhat - y) ** 2)"),
    ("dC_dm", "returns_cost"): _gradient("dC_dm", "return torch.mean((m * x + b - y) ** 2)"),
    ("dC_dm", "missing_x"): _gradient("dC_dm", "return 2 * torch.mean(m * x + b - y)"),
    ("dC_dm", "per_instance"): _gradient("dC_dm", "return 2 * (m * x + b - y) * x / len(y)"),
    ("dC_dm", "broadcast_n_by_n"): _gradient("dC_dm", "e = (m * x + b).reshape(-1, 1) - y\n"
                                                      "return 2 * torch.sum(e * x) / len(y)"),
    ("dC_dm", "broadcast_product_of_sums"): _gradient(
        "dC_dm", "return 2 * torch.sum(m * x + b - y) * torch.sum(x) / len(y)"),
    ("dC_dm", "swapped_m_b"): _gradient("dC_dm", "return 2 * torch.mean((b * x + m - y) * x)"),
    ("dC_dm", "global_data"): "def dC_dm(xs, ys, m, b):\n    return 2 * torch.mean((m * x + b - y) * x)\n",
    ("dC_dm", "sign_flipped+missing_x"): _gradient("dC_dm", "return 2 * torch.mean(y - m * x - b)"),
    ("dC_db", "returns_cost"): _gradient("dC_db", "return torch.mean((m * x + b - y) ** 2)"),
    ("dC_db", "has_x"): _gradient("dC_db", "return 2 * torch.mean((m * x + b - y) * x)"),
    ("dC_db", "per_instance"): _gradient("dC_db", "return 2 * (m * x + b - y) / len(y)"),
    ("dC_db", "swapped_m_b"): _gradient("dC_db", "return 2 * torch.mean(b * x + m - y)"),
    ("dC_db", "global_data"): "def dC_db(inputs, targets, m, b):\n    return 2 * torch.mean(m * x + b - y)\n",
    ("dC_db", "missing_two+swapped_m_b"): _gradient("dC_db", "return torch.mean(b * x + m - y)"),
})


def _loop(update: str, epochs: str = "range(epochs)") -> str:
    return (f"def sgd(x, y, m, b, lr=0.01, epochs=1000):\n    for _ in {epochs}:\n"
            f"        gm, gb = dC_dm(x, y, m, b), dC_db(x, y, m, b)\n        {update}\n    return m, b\n")


SGD_MISTAKE_ANSWERS = {
    "off_by_one_more": _loop("m, b = m - lr * gm, b - lr * gb", "range(epochs + 1)"),
    "off_by_one_fewer": _loop("m, b = m - lr * gm, b - lr * gb", "range(1, epochs)"),
    "sequential_update": ("def sgd(x, y, m, b, lr=0.01, epochs=1000):\n    for _ in range(epochs):\n"
                          "        m = m - lr * dC_dm(x, y, m, b)\n        b = b - lr * dC_db(x, y, m, b)\n"
                          "    return m, b\n"),
    "gradient_ascent": _loop("m, b = m + lr * gm, b + lr * gb"),
    "missing_lr": _loop("m, b = m - gm, b - gb"),
    "ignores_lr": _loop("m, b = m - 0.01 * gm, b - 0.01 * gb"),
    # Its own gradient, vectorised in numpy (1000 steps per call through the stand-ins would be slow to test).
    "ignores_epochs": ("def sgd(x, y, m, b, lr=0.01, epochs=1000):\n    x, y = x.double().numpy(), y.double().numpy()\n"
                       "    m, b = float(m), float(b)\n    for _ in range(1000):\n        e = m * x + b - y\n"
                       "        m, b = m - lr * 2 * e.dot(x) / len(x), b - lr * 2 * e.sum() / len(x)\n    return m, b\n"),
    "swapped": _loop("m, b = m - lr * gm, b - lr * gb").replace("return m, b", "return b, m"),
    "unchanged": "def sgd(x, y, m, b, lr=0.01, epochs=1000):\n    return m, b\n",
    "closed_form": ("def sgd(x, y, m, b, lr=0.01, epochs=1000):\n"
                    "    A = torch.stack([x, torch.ones_like(x)], 1).double()\n"
                    "    s = torch.linalg.lstsq(A, y.double()[:, None]).solution\n    return s[0, 0], s[1, 0]\n"),
    "hard_coded": "def sgd(x, y, m, b, lr=0.01, epochs=1000):\n    return -0.4681258499622345, 1.7542961835861206\n",
    "sgd_global_data": ("def sgd(xs, ys, m, b, lr=0.01, epochs=1000):\n    for _ in range(epochs):\n"
                        "        gm, gb = dC_dm(x, y, m, b), dC_db(x, y, m, b)\n"
                        "        m, b = m - lr * gm, b - lr * gb\n    return m, b\n"),
}


def test_every_catalogued_mistake_has_an_answer_here():
    """The sweeps below cover the whole catalogue (a new mistake needs a sample answer)."""
    for function in ("dC_dyhat", "dC_dm", "dC_db"):
        for mistake in mistakes.gradient_mistakes(function):
            assert (function, mistake.id) in GRADIENT_MISTAKE_ANSWERS, (function, mistake.id)
    assert {m.id for m in mistakes.DESCENT_MISTAKES} == set(SGD_MISTAKE_ANSWERS)


def _assert_earns_nothing(results, mistake):
    for cell_id, rs in results.items():
        for r in rs:
            assert r.points == 0, (mistake, cell_id, r.message)
            assert r.mistake == mistake, (mistake, cell_id, r.mistake, r.message)


@pytest.mark.parametrize("function", ["dC_dyhat", "dC_dm", "dC_db"])
def test_every_gradient_mistake_earns_nothing_and_is_named_on_every_seed(function):
    answers = {mistake: source for (f, mistake), source in GRADIENT_MISTAKE_ANSWERS.items() if f == function}
    for mistake, results in graded(answers, function).items():
        _assert_earns_nothing(results, mistake)


# Where 1000 steps from a stable start reach the least-squares line, ignoring epochs and
# returning the closed form give the same numbers: either name is true to them.
ALIASES = {"ignores_epochs": {"closed_form"}, "closed_form": {"ignores_epochs"}}


def test_every_sgd_mistake_earns_nothing_and_is_named_on_every_seed():
    for mistake, results in graded(SGD_MISTAKE_ANSWERS, "sgd").items():
        for cell_id, rs in results.items():
            for r in rs:
                assert r.points == 0, (mistake, cell_id, r.message)
                # The path check may name the step that is not a descent step instead.
                named = {mistake, *ALIASES.get(mistake, ())} | (
                    {"not_descent"} if cell_id == "sgd_cost_decreases" else set())
                assert r.mistake in named, (mistake, cell_id, r.mistake, r.message)
        assert all(r.mistake == mistake for r in results["sgd_lecture_run"])


def test_random_cases_can_tell_every_mistake_from_the_right_answer_on_every_seed():
    """By construction: in every cell, for every catalogued mistake, some case gives other numbers."""
    from autograder import tolerance
    for seed in SEEDS:
        for cell in spec.GRADE_CELLS:
            if cell.function == "sgd" or (cell.id in FIXED_CELLS and seed):
                continue
            cases = gradient_cases(cell.id, seed)
            for mistake in {m.id for m in mistakes.gradient_mistakes(cell.function)}:
                told = False
                for case in cases:
                    expected, inputs = judge._expected_gradient(cell.function, case)
                    bound = tolerance.gradient_bound(cell.function, *inputs, "float32")
                    for formula in mistakes.gradient_formulas(cell.function, mistake):
                        with np.errstate(all="ignore"):
                            wrong = np.asarray(formula(*inputs, cell.function), dtype=float).reshape(-1)
                        told = told or not judge._within(wrong, expected, bound)
                assert told, (seed, cell.id, mistake)


def test_sgd_cases_tell_every_mistake_from_the_right_answer_on_every_seed():
    from autograder import tolerance
    from autograder.mistakes import descend_path
    for seed in SEEDS:
        for cell in spec.cells_for("sgd"):
            if cell.id in FIXED_CELLS and seed:
                continue
            cases = descent_cases(cell.id, seed)
            for mistake in mistakes.DESCENT_MISTAKES:
                told = False
                for case in cases:
                    x, y, m, b = case.effective()
                    m_path, b_path = descend_path(x, y, m, b, case.lr, case.epochs)
                    bound = tolerance.run_bound(x, y, m_path, b_path, case.lr, "float32")
                    with np.errstate(all="ignore"):
                        wrong = np.asarray(mistake.variant(case, x, y, m, b), dtype=float)
                    told = told or not judge._close_pair(wrong, (m_path[-1], b_path[-1]), bound)
                assert told, (seed, cell.id, mistake.id)


# --- sgd's forms and words -------------------------------------------------------------------------

def _sgd_returning(expression: str) -> str:
    return ("def sgd(x, y, m, b, lr=0.01, epochs=1000):\n    for _ in range(epochs):\n"
            "        gm, gb = dC_dm(x, y, m, b), dC_db(x, y, m, b)\n        m, b = m - lr * gm, b - lr * gb\n"
            f"    return {expression}\n")


SGD_FORMS = {
    "tuple": _sgd_returning("m, b"),
    "list": _sgd_returning("[m, b]"),
    "stacked tensor": _sgd_returning("torch.stack([torch.as_tensor(m), torch.as_tensor(b)])"),
    "stacked shape-[1] tensors, shape (2, 1)": _sgd_returning(
        "torch.stack([torch.as_tensor(m).reshape(1), torch.as_tensor(b).reshape(1)])"),
    "numpy array": _sgd_returning("np.array([float(m), float(b)])"),
}


def test_sgd_may_return_the_pair_in_any_of_its_forms():
    for form, results in graded(SGD_FORMS, "sgd", seeds=[0, 1]).items():
        lost = [r.message for rs in results.values() for r in rs if not r.passed]
        assert not lost, (form, lost[:2])


def test_sgd_returning_three_values_is_told_to_return_the_pair():
    source = _sgd_returning("m, b, []")
    results = graded({"three": source}, "sgd", seeds=[0])["three"]
    for cell_id, (result,) in results.items():
        assert result.points == 0 and result.mistake == "pair_length", cell_id
        assert "returned 3 values; return (m, b)" in result.message


OWN_GRADIENT = {
    "inline": ("def sgd(x, y, m, b, lr=0.01, epochs=1000):\n    for _ in range(epochs):\n"
               "        e = m * x + b - y\n"
               "        m, b = m - lr * 2 * torch.mean(e * x), b - lr * 2 * torch.mean(e)\n    return m, b\n"),
    # dC_dm as it was when sgd was defined: the student's own, missing its 2
    "bound through defaults": (
        "def dC_dm_half(x, y, m, b):\n    return torch.mean((m * x + b - y) * x)\n"
        "def sgd(x, y, m, b, lr=0.01, epochs=1000, grad_m=dC_dm_half, grad_b=dC_db):\n"
        "    for _ in range(epochs):\n        m, b = m - lr * grad_m(x, y, m, b), b - lr * grad_b(x, y, m, b)\n"
        "    return m, b\n"),
}


def test_an_sgd_with_its_own_gradient_is_told_so_and_graded_by_its_path():
    results = graded(OWN_GRADIENT, "sgd", seeds=[0])
    for form, cells in results.items():
        for cell_id, (result,) in cells.items():
            assert "sgd computes its own gradient instead of calling dC_dm and dC_db" in result.message, cell_id
    assert all(r.passed for rs in results["inline"].values() for r in rs)
    assert not any(r.passed for rs in results["bound through defaults"].values() for r in rs)


def test_no_sgd_message_mentions_autograd():
    answers = {**SGD_MISTAKE_ANSWERS, **SGD_FORMS, **OWN_GRADIENT, "three": _sgd_returning("m, b, []"),
               "stub": "def sgd(x, y, m, b, lr=0.01, epochs=1000):\n    raise NotImplementedError()\n",
               "torch.optim": ("def sgd(x, y, m, b, lr=0.01, epochs=1000):\n"
                               "    p = torch.tensor([float(m), float(b)], requires_grad=True)\n"
                               "    opt = torch.optim.SGD([p], lr=lr)\n    for _ in range(epochs):\n"
                               "        opt.zero_grad(); torch.mean((p[0] * x + p[1] - y) ** 2).backward(); opt.step()\n"
                               "    return p[0].item(), p[1].item()\n")}
    for name, cells in graded(answers, "sgd", seeds=[0]).items():
        for result in (r for rs in cells.values() for r in rs):
            assert "autograd" not in result.message.lower(), (name, result.message)


def test_a_path_that_only_slides_toward_the_least_squares_line_earns_no_cost_decreases():
    source = ("def sgd(x, y, m, b, lr=0.01, epochs=1000):\n"
              "    A = torch.stack([x, torch.ones_like(x)], 1).double()\n"
              "    best = torch.linalg.lstsq(A, y.double()[:, None]).solution[:, 0]\n"
              "    m, b = float(m), float(b)\n    for _ in range(epochs):\n"
              "        m, b = m + 0.5 * (float(best[0]) - m), b + 0.5 * (float(best[1]) - b)\n    return m, b\n")
    results = graded({"slide": source}, "sgd", seeds=[0, 1, 2])["slide"]
    for result in results["sgd_cost_decreases"]:
        assert result.points == 0 and result.mistake == "not_descent", result.message
        assert "is not one gradient step from the start" in result.message


def test_a_descent_case_judged_again_from_what_the_judge_kept_gives_the_same_verdict():
    """Each descent case's reference run, bounds and mistakes' results are kept for the next student;
    the cases themselves are the same objects every time, and a caller changing its list changes nothing."""
    first = descent_cases("sgd_converges", 0)
    first.clear()
    cases = descent_cases("sgd_converges", 0)
    assert cases and [a is b for a, b in zip(cases, descent_cases("sgd_converges", 0))] == [True] * len(cases)
    case = cases[0]
    wrong = {"pair": [0.0, 0.0], "output": {"type": "builtins.tuple", "dtype": "float64", "length": 2}}
    judge._DESCENT_CONTEXTS.clear()
    fresh = judge._classify_descent(case, wrong)
    kept = judge._descent_context(case)
    assert kept["bounds"] and kept["variants"]
    again = judge._classify_descent(case, wrong)
    assert judge._descent_context(case) is kept
    assert (again.passed, again.kind, again.detail, again.explained) == \
        (fresh.passed, fresh.kind, fresh.detail, fresh.explained)
