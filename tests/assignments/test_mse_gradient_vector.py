"""Assignment 2 (mse-gradient-vector), probed and judged in this process: fair grades, named mistakes.

Each sample student's code is run from a namespace (as the notebook would
define it), probed with the unit's probes and judged with its judge, as the
sandbox and the grader do (no nbgrader, no sandbox, no fork).
"""
import ast
import json
import math
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from autograder import course
from autograder import probes as engine
from autograder.assignments.mse_gradient_vector import cases, judge, mistakes, probes, protocol, reference, spec
from autograder.isolation.protocol import Refused
from examples import vector_build
from examples.vector_submissions import CORRECT, EINSUM, FLOAT32, LOOPS, STUDENTS

UNIT = Path(reference.__file__).resolve().parent
SETUP = ("import torch\nfrom autograder.assignments.mse_gradient_vector.data import "
         "B_START_VECTOR, W_START, diabetes, lecture_data\n")
STUB = "def {name}(*args, **kwargs):\n    raise NotImplementedError()\n"
SEEDS = (0, 1, 2)
# With one full batch per epoch the order and the batching cannot show: minibatch_sgd_full_batch
# keeps its point for these mistakes.
BLIND = {"minibatch_sgd_full_batch": {"no_shuffle", "reseeded_shuffle", "divides_by_n", "ignores_batch_size"}}


@pytest.fixture(autouse=True, scope="module")
def short_calls():
    """An endless loop costs one short call limit here, not course.toml's."""
    saved = dict(engine.CALL_SECONDS)
    engine.set_call_seconds(5.0)
    yield
    engine.CALL_SECONDS.update(saved)


def namespace(answers: dict) -> dict:
    code = SETUP + "\n".join(STUB.format(name=f) if answers.get(f, CORRECT[f]) is None else answers.get(f, CORRECT[f])
                             for f in spec.FUNCTIONS)
    found: dict = {}
    exec(code, found)
    return found


def grade(answers: dict, seed, functions=spec.FUNCTIONS) -> dict:
    """{cell id: CheckResult} for the sample's functions, through JSON as from the sandbox."""
    found = namespace(answers)
    results = {}
    for function in functions:
        probe = json.loads(json.dumps(probes.probe_function(found, function, cases.function_inputs(function, seed))))
        for result in judge.judge_function(function, probe, seed=seed):
            results[result.cell_id] = result
    return results


# --- the reference ----------------------------------------------------------------------------------

def test_d_equal_1_gives_back_the_lectures_numbers():
    X, y = reference.lecture_data(torch.float64)
    grads = reference.autograd_gradients(X, y, [0.9], 0.1)
    assert round(grads.cost, 4) == 19.6755
    assert round(float(grads.w[0]), 4) == 36.3050 and round(grads.b, 4) == 6.2650
    assert round(reference.max_stable_lr(X.numpy()), 5) == 0.05491
    assert np.allclose(reference.grad_w(X, y, torch.tensor([0.9]), 0.1).numpy(), grads.w)


def test_the_full_batch_is_plain_gradient_descent():
    rng = np.random.default_rng(0)
    X, y = cases.random_data(rng, 23, 4)
    w, b = rng.normal(size=4), 0.3
    lr = 0.5 * reference.max_stable_lr(X)
    for batch_size in (23, 40):
        sgd = reference.minibatch_sgd(X, y, w, b, lr, 7, batch_size, seed=5)
        gd = reference.gradient_descent(X, y, w, b, lr, 7)
        assert np.allclose(np.append(*sgd.final()), np.append(*gd.final()), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("style", ["matrix", "loops", "einsum"])
def test_students_minibatch_sgd_with_batch_size_n_equals_gradient_descent(style):
    answers = {"matrix": CORRECT, "loops": LOOPS, "einsum": EINSUM}[style]
    found = namespace(answers)
    X, y = reference.lecture_data(torch.float64)
    w, b = found["minibatch_sgd"](X, y, torch.tensor([0.9], dtype=torch.float64), torch.tensor(0.1, dtype=torch.float64),
                                  lr=0.01, epochs=1001, batch_size=len(y), seed=3)
    expected = reference.gradient_descent(X.numpy(), y.numpy(), [0.9], 0.1, 0.01, 1001)
    assert np.allclose(w.numpy().reshape(-1), expected.w[-1], rtol=1e-9)
    assert math.isclose(float(b), expected.b[-1], rel_tol=1e-9)
    assert abs(expected.w[-1][0] - -0.4681258) < 1e-6 and abs(expected.b[-1] - 1.7542962) < 1e-6


# --- the sample class -------------------------------------------------------------------------------

def test_every_catalogued_mistake_has_a_sample_student():
    named = {(f, m) for _, _, expected, _ in STUDENTS.values() for f, m in expected.items()}
    for function, ids in mistakes.catalogue().items():
        for mistake_id in ids:
            assert (function, mistake_id) in named, (function, mistake_id)


@pytest.mark.parametrize("student", ["emmy", "sofia", "carl", "leslie"])
def test_correct_styles_earn_full_marks_on_several_seeds(student):
    _, answers, _, score = STUDENTS[student]
    for seed in SEEDS:
        results = grade(answers, seed)
        lost = [(r.cell_id, r.message) for r in results.values() if not r.passed]
        assert not lost, (student, seed, lost[:2])
        assert sum(r.points for r in results.values()) == score == spec.MAX_SCORE


@pytest.mark.parametrize("student", [s for s, (_, _, expected, _) in STUDENTS.items() if expected])
def test_each_sample_student_earns_its_score_and_each_mistake_is_named(student):
    what, answers, expected, score = STUDENTS[student]
    for seed in SEEDS[:2]:
        results = grade(answers, seed)
        assert sum(r.points for r in results.values()) == score, (student, seed, [
            (r.cell_id, r.points, r.message) for r in results.values() if not r.passed])
        for function, mistake_id in expected.items():
            for cell in spec.cells_for(function):
                result = results[cell.id]
                if mistake_id in BLIND.get(cell.id, ()):
                    assert result.passed, (student, cell.id, result.message)
                    continue
                assert result.points == 0 and result.mistake == mistake_id, (student, seed, cell.id, result.message)
                if mistakes.is_catalogued(mistake_id, function):
                    assert mistakes.sentence_of(mistake_id, function) in result.message
        for cell in spec.GRADE_CELLS:
            if cell.function not in expected:
                assert results[cell.id].passed, (student, cell.id, results[cell.id].message)


# --- fair precision -----------------------------------------------------------------------------------

FLOAT32_SGD = '''\
def minibatch_sgd(X, y, w, b, lr=0.01, epochs=100, batch_size=32, seed=0):
    generator = torch.Generator().manual_seed(seed)
    X, y = X.float(), y.float()
    shape, w, b = w.shape, w.float().reshape(-1), torch.tensor(float(b))
    for epoch in range(epochs):
        order = torch.randperm(len(y), generator=generator)
        for batch in order.split(batch_size):
            g_w, g_b = grad_w(X[batch], y[batch], w, b).float(), grad_b(X[batch], y[batch], w, b).float()
            w, b = w - lr * g_w, b - lr * g_b
    return w.reshape(shape), b
'''


def test_float32_answers_keep_every_point_on_every_seed():
    answers = {**FLOAT32, "minibatch_sgd": FLOAT32_SGD}
    cheap = ("grad_w", "grad_b", "max_stable_lr")
    for seed in range(40):
        results = grade(answers, seed, cheap if seed >= 5 else spec.FUNCTIONS)
        lost = [(r.cell_id, r.message) for r in results.values() if not r.passed]
        assert not lost, (seed, lost[:2])


def test_the_cases_tell_every_mistake_from_the_right_answer_on_every_seed():
    for seed in range(20):
        for cell in spec.GRADE_CELLS:
            if cell.visible and seed:
                continue
            if cell.function in ("grad_w", "grad_b"):
                told = {k for index in range(len(cases.cases_for(cell.id, seed)))
                        for k, wrong in judge._gradient_context(cell.function, cell.id, seed, index)[3]
                        if not judge._within(wrong, *judge._gradient_context(cell.function, cell.id, seed, index)[1:3])}
                want = {m.id for m in mistakes.gradient_mistakes(cell.function)}
            elif cell.function == "max_stable_lr":
                told = {k for index in range(len(cases.cases_for(cell.id, seed)))
                        for k, wrong in judge._rate_context(cell.id, seed, index)[3]
                        if abs(wrong - judge._rate_context(cell.id, seed, index)[1])
                        > judge._rate_context(cell.id, seed, index)[2]}
                want = {m.id for m in mistakes.RATE_MISTAKES}
            else:
                told = set()
                for index in range(len(cases.cases_for(cell.id, seed))):
                    _, path, bounds = judge._descent_context(cell.id, seed, index)
                    expected = np.append(path.w[-1], path.b[-1])
                    told |= {k for k, wrong in judge._variants(cell.id, seed, index)
                             if not judge._close(wrong, expected, bounds[-1])}
                want = {m.id for m in mistakes.DESCENT_MISTAKES} - BLIND.get(cell.id, set())
            assert want <= told, (seed, cell.id, want - told)


# --- minibatch_sgd's words when no catalogued mistake fits -----------------------------------------

def _sgd(old: str, new: str) -> str:
    assert old in CORRECT["minibatch_sgd"]
    return CORRECT["minibatch_sgd"].replace(old, new)


@pytest.mark.parametrize("kind, source", [
    ("order", _sgd("order = torch.randperm(n, generator=generator)",
                   "order = torch.from_numpy(__import__('numpy').random.default_rng(seed).permutation(n))")),
    ("batch_size", _sgd("range(0, n, batch_size)", "range(0, n, batch_size + 1)")
     .replace("order[start:start + batch_size]", "order[start:start + batch_size + 1]")),
    ("update", _sgd("w = w - lr * g_w.reshape(w.shape)", "w = w - 0.7 * lr * g_w.reshape(w.shape)")),
])
def test_a_path_that_leaves_the_reference_says_whether_the_order_the_batch_size_or_the_update_is_wrong(kind, source):
    result = grade({"minibatch_sgd": source}, 0, ("minibatch_sgd",))["minibatch_sgd_follows_reference"]
    assert result.points == 0 and result.mistake == kind, result.message
    assert mistakes.SGD_KIND_SENTENCES[kind] in result.message


def test_no_double_penalty_a_wrong_grad_w_costs_only_its_own_points():
    _, answers, _, _ = STUDENTS["tomas"]
    results = grade(answers, 0)
    assert all(results[c.id].passed for c in spec.cells_for("minibatch_sgd"))


def test_an_sgd_with_its_own_gradient_is_told_so():
    result = grade(STUDENTS["oskar"][1], 0, ("minibatch_sgd",))["minibatch_sgd_lecture_run"]
    assert "computes its own gradient instead of calling grad_w and grad_b" in result.message


# --- the probe: no answer key, bounded plain records ------------------------------------------------

def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module or "")
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("module", ["probes.py", "data.py", "spec.py"])
def test_what_runs_beside_student_code_imports_no_answer(module):
    for name in _imports(UNIT / module):
        for secret in ("reference", "cases", "judge", "mistakes"):
            assert secret not in name.split("."), (module, name)


def test_the_stand_in_computes_the_references_gradients():
    rng = np.random.default_rng(3)
    X, y = cases.random_data(rng, 9, 4)
    Xt, yt, w = torch.tensor(X), torch.tensor(y), torch.tensor(rng.normal(size=(4, 1)))
    log, counts = [], {}
    stand_ins = {name: probes.StandIn(name, Xt, log, counts) for name in ("grad_w", "grad_b")}
    for stand_in in stand_ins.values():
        stand_in.armed = True
    rows = torch.tensor([4, 1, 7])
    assert np.allclose(stand_ins["grad_w"](Xt[rows], yt[rows], w, 0.2).numpy(),
                       reference.grad_w(Xt[rows], yt[rows], w, 0.2).numpy())
    assert math.isclose(float(stand_ins["grad_b"](Xt[rows], yt[rows], w, 0.2)),
                        float(reference.grad_b(Xt[rows], yt[rows], w, 0.2)))
    assert log[0]["rows"] == [4, 1, 7] and log[0]["w_shape"] == [4, 1] and counts == {"grad_w": 1, "grad_b": 1}
    with pytest.raises(ValueError):   # rows that are not rows of minibatch_sgd's X
        stand_ins["grad_w"](Xt[rows] + 1, yt[rows], w, 0.2)
    stand_ins["grad_w"].armed = False
    with pytest.raises(RuntimeError):  # kept and called later: no gradient oracle
        stand_ins["grad_w"](Xt, yt, w, 0.2)


def test_the_stand_ins_are_gone_after_the_run():
    found = namespace({})
    mine = found["grad_w"]
    probes.probe_cell(found, "minibatch_sgd_full_batch", cases.cell_inputs("minibatch_sgd_full_batch", 0))
    assert found["grad_w"] is mine


def test_records_pass_the_protocol_and_bad_ones_are_refused():
    found = namespace({})
    probe = probes.probe_function(found, "minibatch_sgd", cases.function_inputs("minibatch_sgd", 0))
    for cell in probe.values():
        for record in cell["cases"]:
            for key, validate in protocol.RECORD_KEYS.items():
                if key in record:
                    assert validate(json.loads(json.dumps(record[key]))) is not None
    bad = [{"calls": [{"f": "grad_w", "rows": [0] * 2000, "w": [], "w_shape": [1], "b": 0.0}]},
           {"calls": [{"f": "os.system", "rows": [], "w": [], "w_shape": [], "b": 0.0}]},
           {"calls": [{"f": "grad_w", "rows": [], "w": ["1"], "w_shape": [], "b": 0.0}]},
           {"stand_in_calls": {"grad_w": True}}, {"final_w": {"type": "x", "values": [1] * 5000}}]
    for record in bad:
        (key, value), = record.items()
        with pytest.raises(Refused):
            protocol.RECORD_KEYS[key](value)


# --- the notebook ---------------------------------------------------------------------------------------

SOLUTION = course.ROOT / "solutions" / spec.ASSIGNMENT / spec.NOTEBOOK
RELEASE = course.ROOT / "exercises" / spec.ASSIGNMENT / spec.NOTEBOOK


def _notebook_namespace(path: Path) -> dict:
    """The notebook's set-up and answer cells run (its checks wait for the grader's registry)."""
    notebook = nbformat.read(path, as_version=4)
    found: dict = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and not meta.get("grade"):
            exec(cell.source, found)
    return found


def _grade_namespace(found: dict, seed=0) -> float:
    total = 0.0
    for function in spec.FUNCTIONS:
        probe = probes.probe_function(found, function, cases.function_inputs(function, seed))
        total += sum(r.points for r in judge.judge_function(function, probe, seed=seed))
    return total


def test_the_solution_earns_full_marks_and_the_release_nothing():
    assert _grade_namespace(_notebook_namespace(SOLUTION)) == spec.MAX_SCORE
    assert _grade_namespace(_notebook_namespace(RELEASE)) == 0.0


def test_grade_cells_follow_the_specification():
    notebook = nbformat.read(SOLUTION, as_version=4)
    grades = {c.metadata.nbgrader.grade_id: c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert list(grades) == [cell.id for cell in spec.GRADE_CELLS]
    for cell in spec.GRADE_CELLS:
        assert cell.id.startswith(cell.function)
        assert grades[cell.id].metadata.nbgrader.points == cell.points
        assert f'check("{cell.id}")' in grades[cell.id].source
        assert ("BEGIN HIDDEN TESTS" not in grades[cell.id].source) == cell.visible
    answers = [c.metadata.nbgrader.grade_id for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert answers == [f"{function}_answer" for function in spec.FUNCTIONS]
    setup = next(c.source for c in notebook.cells if c.metadata.nbgrader.grade_id == "setup")
    assert {n for n in _imports_of(setup) if n.startswith("autograder")} == {spec.DATA_MODULE}


def _imports_of(source: str) -> set[str]:
    return {node.module for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom)}


def test_release_has_stubs_and_no_solutions_or_hidden_tests():
    text = RELEASE.read_text()
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    assert text.count("raise NotImplementedError()") == len(spec.FUNCTIONS)


def test_the_release_is_in_sync_with_the_solution(tmp_path):
    course_dir = course.make_course(tmp_path / "course")
    course.nbgrader(course_dir, "generate_assignment", spec.ASSIGNMENT, "--force")
    fresh = course_dir / "exercises" / spec.ASSIGNMENT / spec.NOTEBOOK

    def cells(path):
        return [(c.cell_type, c.source, json.dumps(c.metadata.get("nbgrader", {}), sort_keys=True))
                for c in nbformat.read(path, as_version=4).cells]
    assert cells(fresh) == cells(RELEASE), "exercises/mse-gradient-vector is out of date: regenerate it"


def test_the_sample_class_is_in_sync():
    assert vector_build.main(["--check"]) == 0, "run `python -m examples.vector_build`"


# --- one configuration place --------------------------------------------------------------------

CREDIT_RUN = """
import sys
sys.path.insert(0, {tests!r})
from assignments.test_mse_gradient_vector import grade
from examples.vector_submissions import STUDENTS
results = grade(STUDENTS["tomas"][1], 1, functions=("grad_w",))
print(results["grad_w_matches_autograd"].points, results["grad_w_matches_autograd"].max_points,
      results["grad_w_matches_autograd"].mistake)
"""


@pytest.mark.parametrize("table, expect, maximum", [
    ("", 0.0, 2.0),                                                        # a named mistake earns nothing
    ("[mistakes.mse-gradient-vector]\nmissing_two = 0.5\n", 1.0, 2.0),     # half of every case it explains
    ("[points.mse-gradient-vector]\ngrad_w_matches_autograd = 4\n", 0.0, 4.0)])
def test_course_toml_sets_the_second_assignments_points_and_mistake_credit(tmp_path, table, expect, maximum):
    import subprocess
    import sys
    root = Path(__file__).resolve().parents[2]
    settings = tmp_path / "course.toml"
    settings.write_text((root / "course.toml").read_text() + "\n" + table)
    run = subprocess.run([sys.executable, "-c", CREDIT_RUN.format(tests=str(root / "tests"))], cwd=root,
                         capture_output=True, text=True, timeout=300,
                         env={**__import__("os").environ, "MSEGRAD_CONFIG": str(settings)})
    assert run.returncode == 0, run.stderr[-2000:]
    points, most, mistake = run.stdout.split()
    assert mistake == "missing_two"
    assert (float(points), float(most)) == (expect, maximum)


def test_an_unknown_mistake_in_the_second_assignments_table_is_refused(tmp_path):
    import subprocess
    import sys
    root = Path(__file__).resolve().parents[2]
    settings = tmp_path / "course.toml"
    settings.write_text((root / "course.toml").read_text() + "\n[mistakes.mse-gradient-vector]\nno_such = 0.5\n")
    run = subprocess.run([sys.executable, "-c", "import autograder.assignments.mse_gradient_vector.mistakes"],
                         cwd=root, capture_output=True, text=True, timeout=300,
                         env={**__import__("os").environ, "MSEGRAD_CONFIG": str(settings)})
    assert run.returncode != 0 and "mistakes.mse-gradient-vector.no_such is not a catalogued mistake" in run.stderr


@pytest.mark.parametrize("table, expect", [
    ("gradient_shapes = [[4, 3], [9, 9]]\nfollow_runs = [[10, 2, 3, 2]]\n", "ok"),
    ("gradient_shapes = [[4, 3, 1]]\n", "cases.mse-gradient-vector.gradient_shapes needs lists of 2 whole numbers"),
    ("lr_fractions = [0.5, -1]\n", "cases.mse-gradient-vector.lr_fractions must be a list of numbers above zero"),
    ("no_such = 1\n", "unknown key cases.mse-gradient-vector.no_such")])
def test_course_toml_sets_the_second_assignments_hidden_cases(tmp_path, table, expect):
    import os
    import subprocess
    import sys
    root = Path(__file__).resolve().parents[2]
    settings = tmp_path / "course.toml"
    settings.write_text((root / "course.toml").read_text() + "\n[cases.mse-gradient-vector]\n" + table)
    code = ("from autograder.assignments.mse_gradient_vector import cases\n"
            "print(len(cases.cell_inputs('grad_w_matches_autograd', 1)), "
            "[len(case['y']) for case in cases.cell_inputs('minibatch_sgd_follows_reference', 1)])")
    run = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "MSEGRAD_CONFIG": str(settings)})
    if expect == "ok":
        assert run.returncode == 0, run.stderr[-2000:]
        count, follow = run.stdout.split(" ", 1)
        default = len(cases.cell_inputs("grad_w_matches_autograd", 1))
        assert int(count) < default and "10" in follow, run.stdout
    else:
        assert run.returncode != 0 and expect in run.stderr, run.stderr[-2000:]
