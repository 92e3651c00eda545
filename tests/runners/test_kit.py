"""The student kit: the release and its visible checks work with torch, numpy and the kit alone, and leak nothing."""
from __future__ import annotations

import json
import sys
import re
from pathlib import Path

import nbformat
import pytest

from autograder import assignments, course, mistakes, spec
from autograder.checks import run_check
from autograder.cli import main as msegrad
from autograder.notebook import answer_code
from autograder.runners import kit
from autograder.runners.kit import checks as kit_checks
from examples.build import CLASS_DIR
from examples.submissions import CORRECT

SOLUTIONS = course.ROOT / "solutions" / spec.ASSIGNMENT / spec.NOTEBOOK
# Sample students whose mistake the kit names by another word (its catalogue has no hand-derived formula),
# and those that end or hang the process (the grader's checks fork; the kit's run in the student's kernel).
NAMED_OTHERWISE = {"hedy"}
PROCESS_KILLERS = {"tim", "shafi"}


def _solution_lines(solutions: Path = SOLUTIONS, release: Path | None = None) -> list[str]:
    """Every line of solution code and hidden test in the instructor's notebook, long enough to be telling."""
    lines, inside = [], False
    for cell in nbformat.read(solutions, as_version=4).cells:
        for line in cell.source.splitlines():
            if "BEGIN SOLUTION" in line or "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END SOLUTION" in line or "END HIDDEN TESTS" in line:
                inside = False
            elif inside and len(line.strip()) >= 12:
                lines.append(line.strip())
    # Lines the release shows anyway (a hidden test's import is a visible test's too) tell nothing.
    shown = (release or course.release_path(course.ROOT)).read_text()
    return [line for line in lines if json.dumps(line)[1:-1] not in shown]


def test_visible_checks_are_the_specification_s():
    visible = {cell.id: (cell.function, cell.points, cell.description) for cell in spec.GRADE_CELLS if cell.visible}
    assert kit_checks.VISIBLE == visible
    assert kit_checks.HIDDEN_POINTS == spec.MAX_SCORE - sum(points for _, points, _ in visible.values())


def test_sentences_are_the_grader_s():
    grader = {m.id: m.sentence for m in (*mistakes.GRADIENT_MISTAKES, *mistakes.DESCENT_MISTAKES)}
    grader.update(mistakes.KIND_SENTENCES)
    for key, sentence in kit_checks.SENTENCES.items():
        assert grader[key] == sentence, key
    for key, sentence in kit_checks.SGD_SENTENCES.items():
        assert mistakes.SGD_KIND_SENTENCES[key] == sentence, key


@pytest.mark.parametrize("student", sorted(p.name for p in CLASS_DIR.iterdir() if p.name not in PROCESS_KILLERS))
def test_kit_points_equal_the_grader_s_on_the_visible_checks(student):
    notebook = CLASS_DIR / student / spec.ASSIGNMENT / spec.NOTEBOOK
    namespace: dict = {}
    exec(compile(answer_code(notebook), str(notebook), "exec"), namespace)
    for cell_id in kit_checks.VISIBLE:
        grader, ours = run_check(cell_id, dict(namespace)), kit_checks.run_check(cell_id, dict(namespace))
        assert ours.points == grader.points, (cell_id, grader.message, ours.message)
        if student not in NAMED_OTHERWISE:
            assert ours.mistake == grader.mistake, (cell_id, grader.message, ours.message)


def test_kit_holds_the_release_the_visible_checks_and_the_data_only(tmp_path):
    assert msegrad(["kit", "--out", str(tmp_path / "kit")]) == 0
    folder = tmp_path / "kit"
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert files == sorted(["README.md", "msegrad-kit/autograder/__init__.py", "msegrad-kit/autograder/checks.py",
                            "msegrad-kit/autograder/data.py", "msegrad-kit/pyproject.toml", spec.NOTEBOOK])
    assert (folder / spec.NOTEBOOK).read_bytes() == course.release_path(course.ROOT).read_bytes()
    assert (folder / "msegrad-kit/autograder/data.py").read_bytes() == (course.ROOT / "autograder/data.py").read_bytes()
    text = {name: (folder / name).read_text() for name in files}
    leaked = [(name, line) for line in _solution_lines() for name, body in text.items() if line in body]
    assert leaked == []
    package = "".join(body for name, body in text.items() if name.startswith("msegrad-kit/"))
    for cell in spec.GRADE_CELLS:
        assert (cell.id in package) == cell.visible, cell.id     # no hidden check's id, let alone its settings
    assert "import reference" not in package and "autograder.reference" not in package


def test_kit_build_refuses_to_leak(tmp_path, monkeypatch):
    leaky = tmp_path / "leaky.ipynb"
    leaky.write_text(SOLUTIONS.read_text())
    with pytest.raises(kit.KitError, match="SOLUTION"):
        kit.build(tmp_path / "kit", release=leaky)
    assert not (tmp_path / "kit").exists()


# --- on a student's machine -----------------------------------------------------------------------

RUN_NOTEBOOKS = """
import json, sys
import nbformat
from nbclient import NotebookClient
results = {}
for path in sys.argv[1:]:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, kernel_name="python3", timeout=300, allow_errors=True).execute()
    cells = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cells.append({"grade_id": cell.metadata.get("nbgrader", {}).get("grade_id"),
                          "text": "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream"),
                          "errors": [o.ename for o in cell.outputs if o.output_type == "error"]})
    results[path] = cells
print(json.dumps(results))
"""


def _write(path: Path, answers: dict) -> Path:
    nbformat.write(course.fill_answers(course.release_path(course.ROOT), answers), path)
    return path


@pytest.fixture(scope="module")
def executed(kit_env):
    release = kit_env.kit / spec.NOTEBOOK
    correct = _write(kit_env.home / "correct.ipynb", CORRECT)
    answer_key = _write(kit_env.home / "answer_key.ipynb",
                        {**CORRECT, "dC_dm": "from autograder.reference import dC_dm\n"})
    script = kit_env.home / "run_notebooks.py"
    script.write_text(RUN_NOTEBOOKS)
    result = kit_env.run(kit_env.python, script, release, correct, answer_key)
    found = json.loads(result.stdout.strip().splitlines()[-1])
    return {name: found[str(path)] for name, path in (("release", release), ("correct", correct),
                                                    ("answer_key", answer_key))}


@pytest.mark.slow
def test_only_torch_numpy_jupyter_and_the_kit_are_installed(kit_env):
    found = kit_env.run(kit_env.python, "-c", "import autograder, torch, numpy, sys; print(autograder.__file__)")
    assert found.stdout.strip().startswith(str(kit_env.python.parent.parent))
    for module in ("nbgrader", "autograder.reference", "autograder.judge", "autograder.spec", "matplotlib"):
        missing = kit_env.run(kit_env.python, "-c", f"import {module}", check=False)
        assert missing.returncode != 0 and "ModuleNotFoundError" in missing.stderr, module


@pytest.mark.slow
def test_the_release_runs_top_to_bottom_and_each_visible_check_prints_its_feedback(executed):
    checks = {cell["grade_id"]: cell for cell in executed["release"] if cell["grade_id"] in kit_checks.VISIBLE}
    assert set(checks) == set(kit_checks.VISIBLE)
    for cell_id, cell in checks.items():
        assert cell["errors"] == [], cell_id
        assert re.match(rf"\[FAIL\] {cell_id}: 0/\d+ .*is not written yet", cell["text"].replace("\n", " ")), cell
    setup = executed["release"][0]
    assert setup["grade_id"] == "setup" and setup["errors"] == []


@pytest.mark.slow
def test_correct_answers_pass_every_visible_check(executed):
    for cell in executed["correct"]:
        if cell["grade_id"] in kit_checks.VISIBLE:
            assert cell["text"].startswith(f"[PASS] {cell['grade_id']}"), cell


@pytest.mark.slow
@pytest.mark.parametrize("kit_run, answer_id, check_id", [("executed", "dC_dm_answer", "dC_dm_lecture_data"),
                                                         ("vector_executed", "grad_w_answer", "grad_w_lecture_data")],
                         ids=["mse-gradient", "mse-gradient-vector"])
def test_a_submission_importing_the_answer_key_fails_with_import_error(request, kit_run, answer_id, check_id):
    cells = request.getfixturevalue(kit_run)["answer_key"]
    answer = next(cell for cell in cells if cell["grade_id"] == answer_id)
    assert answer["errors"] == ["ModuleNotFoundError"]     # a subclass of ImportError
    check = next(cell for cell in cells if cell["grade_id"] == check_id)
    assert f"[FAIL] {check_id}: 0/1" in check["text"]


@pytest.mark.slow
def test_msegrad_check_works_for_students(kit_env):
    notebook = _write(kit_env.home / "check.ipynb", {**CORRECT, "dC_db": "def dC_db(x, y, m, b):\n"
                                                     "    return torch.sum(m * x + b - y) / len(y)\n"})
    result = kit_env.run("msegrad", "check", notebook, check=False)
    assert result.returncode == 1
    assert "[PASS] dC_dm_lecture_data: 1/1" in result.stdout
    assert "[FAIL] dC_db_lecture_data: 0/1" in result.stdout and "factor 2" in result.stdout.replace("\n", " ")
    assert "4/5 points on the visible checks" in result.stdout


def test_the_kit_s_checks_carry_the_course_settings(tmp_path, monkeypatch):
    import importlib.util

    from autograder import config
    assert msegrad(["kit", "--out", str(tmp_path / "kit")]) == 0
    built = importlib.util.spec_from_file_location("kit_checks_built", tmp_path / "kit" / "msegrad-kit" / "autograder" / "checks.py")
    module = importlib.util.module_from_spec(built)
    monkeypatch.setitem(sys.modules, "kit_checks_built", module)   # dataclasses look their module up
    built.loader.exec_module(module)
    assert module.VISIBLE == {cell.id: (cell.function, cell.points, cell.description)
                              for cell in spec.GRADE_CELLS if cell.visible}
    assert module.HIDDEN_POINTS == kit_checks.HIDDEN_POINTS
    assert module.CALL_SECONDS == config.get("limits", "call_seconds")


# --- assignment 2's kit (mse-gradient-vector) --------------------------------------------------------

VECTOR = assignments.get("mse-gradient-vector")
VECTOR_SOLUTIONS = course.ROOT / "solutions" / VECTOR.name / VECTOR.notebook
VECTOR_RELEASE = course.release_path(course.ROOT, VECTOR)
VECTOR_VISIBLE = [cell.id for cell in VECTOR.spec.GRADE_CELLS if cell.visible]
VECTOR_UNIT = "msegrad-kit/autograder/assignments/mse_gradient_vector"


def test_vector_kit_holds_the_release_its_visible_checks_and_its_data_only(tmp_path):
    assert msegrad(["kit", "--out", str(tmp_path / "kit"), "--assignment", VECTOR.name]) == 0
    folder = tmp_path / "kit"
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert files == sorted(["README.md", "msegrad-kit/autograder/__init__.py", "msegrad-kit/autograder/checks.py",
                            "msegrad-kit/autograder/data.py", "msegrad-kit/autograder/assignments/__init__.py",
                            f"{VECTOR_UNIT}/__init__.py", f"{VECTOR_UNIT}/data.py", "msegrad-kit/pyproject.toml",
                            VECTOR.notebook])
    assert (folder / VECTOR.notebook).read_bytes() == VECTOR_RELEASE.read_bytes()
    assert (folder / VECTOR_UNIT / "data.py").read_bytes() == (VECTOR.folder / "data.py").read_bytes()
    assert (folder / "msegrad-kit/autograder/checks.py").read_text().startswith((VECTOR.folder / "kit.py").read_text())
    text = {name: (folder / name).read_text() for name in files}
    leaked = [(name, line) for line in _solution_lines(VECTOR_SOLUTIONS, VECTOR_RELEASE)
              for name, body in text.items() if line in body]
    assert leaked == []
    package = "".join(body for name, body in text.items() if name.startswith("msegrad-kit/"))
    for cell in VECTOR.spec.GRADE_CELLS:
        assert (cell.id in package) == cell.visible, cell.id     # no hidden check's id, let alone its settings
    for word in kit.forbidden(VECTOR):
        assert not any(word in body for body in text.values()), word
    for part in ("reference", "cases", "judge", "mistakes", "probes", "spec"):
        assert f"{part}.py" not in {Path(name).name for name in files}, part
    # The release reads scikit-learn's bundled diabetes files: the kit depends on it, and says so.
    assert '"scikit-learn>=1.3"' in text["msegrad-kit/pyproject.toml"]
    assert "scikit-learn" in text["README.md"] and VECTOR.notebook in text["README.md"]


def test_vector_kit_build_refuses_to_leak(tmp_path):
    leaky = tmp_path / "leaky.ipynb"
    leaky.write_text(VECTOR_SOLUTIONS.read_text())
    with pytest.raises(kit.KitError, match="SOLUTION"):
        kit.build(tmp_path / "kit", release=leaky, assignment=VECTOR.name)
    assert not (tmp_path / "kit").exists()


def test_vector_kit_s_checks_carry_the_course_settings(tmp_path, monkeypatch):
    import importlib.util

    from autograder import config
    assert msegrad(["kit", "--out", str(tmp_path / "kit"), "--assignment", VECTOR.name]) == 0
    built = importlib.util.spec_from_file_location("vector_kit_checks_built",
                                                   tmp_path / "kit" / "msegrad-kit" / "autograder" / "checks.py")
    module = importlib.util.module_from_spec(built)
    monkeypatch.setitem(sys.modules, "vector_kit_checks_built", module)   # dataclasses look their module up
    built.loader.exec_module(module)
    assert module.VISIBLE == {cell.id: (cell.function, cell.points, cell.description)
                              for cell in VECTOR.spec.GRADE_CELLS if cell.visible}
    assert module.HIDDEN_POINTS == VECTOR.spec.MAX_SCORE - sum(p for _, p, _ in module.VISIBLE.values())
    assert module.CALL_SECONDS == config.get("limits", "call_seconds")


def _write_vector(path: Path, answers: dict) -> Path:
    nbformat.write(course.fill_answers(VECTOR_RELEASE, answers), path)
    return path


@pytest.fixture(scope="module")
def vector_executed(vector_kit_env):
    from examples.vector_submissions import CORRECT as VECTOR_CORRECT, STUDENTS as VECTOR_STUDENTS

    env = vector_kit_env
    release = env.kit / VECTOR.notebook
    notebooks = {
        "release": release,
        "correct": _write_vector(env.home / "correct.ipynb", VECTOR_CORRECT),
        "answer_key": _write_vector(env.home / "answer_key.ipynb", {
            **VECTOR_CORRECT, "grad_w": "from autograder.assignments.mse_gradient_vector.reference import grad_w\n"}),
        "mistakes": _write_vector(env.home / "mistakes.ipynb", {
            **VECTOR_CORRECT, **VECTOR_STUDENTS["tomas"][1], **VECTOR_STUDENTS["nils"][1],
            **VECTOR_STUDENTS["astrid"][1]}),
    }
    script = env.home / "run_notebooks.py"
    script.write_text(RUN_NOTEBOOKS)
    result = env.run(env.python, script, *notebooks.values())
    found = json.loads(result.stdout.strip().splitlines()[-1])
    return {name: found[str(path)] for name, path in notebooks.items()}


@pytest.mark.slow
def test_vector_kit_needs_only_torch_numpy_scikit_learn_jupyter_and_the_kit(vector_kit_env):
    env = vector_kit_env
    found = env.run(env.python, "-c", f"import autograder, {VECTOR.spec.DATA_MODULE}, torch, numpy; "
                                      "print(autograder.__file__)")
    assert found.stdout.strip().startswith(str(env.python.parent.parent))
    trusted = [f"{VECTOR.package}.{part}" for part in ("reference", "cases", "judge", "mistakes", "probes", "spec")]
    for module in ("nbgrader", "autograder.reference", "autograder.judge", "autograder.spec", "matplotlib", *trusted):
        missing = env.run(env.python, "-c", f"import {module}", check=False)
        assert missing.returncode != 0 and "ModuleNotFoundError" in missing.stderr, module


@pytest.mark.slow
def test_vector_release_runs_top_to_bottom_and_each_visible_check_prints_its_feedback(vector_executed):
    cells = vector_executed["release"]
    assert cells[0]["grade_id"] == "setup" and cells[0]["errors"] == []      # the diabetes data loads
    checks = {cell["grade_id"]: cell for cell in cells if cell["grade_id"] in VECTOR_VISIBLE}
    assert set(checks) == set(VECTOR_VISIBLE)
    for cell_id, cell in checks.items():
        assert cell["errors"] == [], cell_id
        assert re.match(rf"\[FAIL\] {cell_id}: 0/\d+ .*is not written yet", cell["text"].replace("\n", " ")), cell


@pytest.mark.slow
def test_vector_correct_answers_pass_every_visible_check(vector_executed):
    checks = [cell for cell in vector_executed["correct"] if cell["grade_id"] in VECTOR_VISIBLE]
    assert len(checks) == len(VECTOR_VISIBLE)
    for cell in checks:
        assert cell["errors"] == [] and cell["text"].startswith(f"[PASS] {cell['grade_id']}"), cell


@pytest.mark.slow
def test_vector_kit_names_the_mistakes_with_the_catalogue_s_sentences(vector_executed):
    from autograder.assignments.mse_gradient_vector import mistakes as vector_mistakes

    text = {cell["grade_id"]: " ".join(cell["text"].split()) for cell in vector_executed["mistakes"]}
    expected = {"grad_w_lecture_data": "missing_two", "minibatch_sgd_lecture_run": "reseeded_shuffle",
                "max_stable_lr_lecture_data": "hessian_without_2_over_n"}
    for cell_id, mistake in expected.items():
        function = VECTOR.spec.CELLS_BY_ID[cell_id].function
        assert text[cell_id].startswith(f"[FAIL] {cell_id}: 0/"), text[cell_id]
        assert vector_mistakes.sentence_of(mistake, function) in text[cell_id], text[cell_id]
    assert text["grad_b_lecture_data"].startswith("[PASS] grad_b_lecture_data")


@pytest.mark.slow
def test_vector_msegrad_check_works_for_students(vector_kit_env):
    from examples.vector_submissions import CORRECT as VECTOR_CORRECT, STUDENTS as VECTOR_STUDENTS

    env = vector_kit_env
    notebook = _write_vector(env.home / "check.ipynb", {**VECTOR_CORRECT, **VECTOR_STUDENTS["elena"][1]})
    result = env.run("msegrad", "check", notebook, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    out = " ".join(result.stdout.split())
    assert "[PASS] grad_w_lecture_data: 1/1" in out
    assert "[FAIL] grad_b_lecture_data: 0/1" in out and "factor 2 from the power rule is missing" in out
    assert "4/5 points on the visible checks; hidden checks (8 more points)" in out
