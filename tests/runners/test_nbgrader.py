"""Real `nbgrader autograde`, isolated: the sample class and hostile submissions get msegrad grade's numbers.

One course in a temporary folder. The honest sample class (examples/submissions.py,
with the solution and the untouched release) is released, autograded,
given feedback and exported, and none of those commands may print a
warning. Then hostile submissions join it and autograde runs again. Every
student's points, cell by cell, must equal what `msegrad grade` gives the
same files; tampering must earn nothing, and nothing outside the sandbox
may change.
"""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import nbformat
import pytest

from autograder import batch, course, sandbox, spec
from autograder.runners import nbgrader as runner
from examples import build
from examples.submissions import STUDENTS

from adversarial.corpus import ATTACKS, WRONG_DC_DM, fill
from adversarial.notebooks import CORRECT, full, write_student
from runners import score_differences

needs_bwrap = pytest.mark.skipif(not sandbox.choose_mode().sandboxed,
                                 reason="bubblewrap cannot run here: " + sandbox.choose_mode().reason)
# Short limits keep the endless loops cheap; honest code needs well under a second per function.
LIMITS_ENV = {"MSEGRAD_TIMEOUT": "4", "MSEGRAD_TOP_TIMEOUT": "4"}
STUBS = {function: f"def {function}{signature}:\n    raise NotImplementedError()\n"
         for function, signature in (("dC_dyhat", "(yhat, y)"), ("dC_dm", "(x, y, m, b)"),
                                     ("dC_db", "(x, y, m, b)"), ("sgd", "(x, y, m, b, lr=0.01, epochs=1000)"))}

# Attacks on nbgrader's in-kernel grading. Code that must run before the test
# cells sits in the first answer cell. Each would earn points if it worked.
NBGRADER_ATTACKS = {
    "ipython_input_transformer": ({"dC_dm": WRONG_DC_DM, "dC_dyhat": CORRECT["dC_dyhat"] + """
def _full_marks(lines):
    return ["1.0\\n"] if any("check(" in line for line in lines) else lines
get_ipython().input_transformers_post.append(_full_marks)
"""}, "", {"dC_dyhat": "full", "dC_dm": 0, "dC_db": "full", "sgd": "full"}),
    "write_gradebook": ({"dC_dm": WRONG_DC_DM, "dC_dyhat": CORRECT["dC_dyhat"] + """
import sqlite3
for _name in ("../../../gradebook.db", "{course}/gradebook.db"):
    try:
        _db = sqlite3.connect(_name)
        _db.execute("CREATE TABLE planted (x)")
        _db.execute("UPDATE grade SET auto_score = 100, manual_score = 100")
        _db.commit()
    except Exception:
        pass
"""}, "", {"dC_dyhat": "answer-key", "dC_dm": "answer-key", "dC_db": "answer-key", "sgd": "answer-key"}),
    "steal_solutions": ({**STUBS, "dC_dyhat": STUBS["dC_dyhat"] + """
import json
for _name in ("../../../solutions/mse-gradient/mse_gradient.ipynb", "{course}/solutions/mse-gradient/mse_gradient.ipynb"):
    try:
        for _cell in json.load(open(_name))["cells"]:
            if "BEGIN SOLUTION" in "".join(_cell["source"]):
                exec("".join(_cell["source"]), globals())
    except Exception:
        pass
"""}, "", {"dC_dyhat": 0, "dC_dm": 0, "dC_db": 0, "sgd": 0}),
    "answer_key": ({"dC_dm": "from autograder.reference import dC_dm\n"}, "",
                   {"dC_dyhat": "full", "dC_dm": "answer-key", "dC_db": "full", "sgd": "full"}),
}
FROM_CORPUS = ("patch_numpy_allclose", "patch_autograder", "hang_ignoring_signals_in_sgd", "segfault_in_dC_dm",
               "six_gigabytes_in_sgd", "write_outside", "read_solutions", "honest_with_a_broken_cell",
               "honest_lecture_style")
HOSTILE = {**{name: ATTACKS[name] for name in FROM_CORPUS}, **NBGRADER_ATTACKS}
PLANTED = [Path("/work/planted.txt"), Path("/etc/planted.txt"), Path("/usr/planted.txt"),
           Path("/var/tmp/planted.txt"), Path("/planted.txt")]
# What nbgrader itself writes in the course directory.
NBGRADER_OUTPUTS = ("gradebook.db", "autograded", "feedback", "grades.csv", ".nbgrader.log")


def _snapshot(course_dir: Path) -> dict[str, str]:
    files = {}
    for path in sorted(course_dir.rglob("*")):
        relative = path.relative_to(course_dir)
        if path.is_file() and relative.parts[0] not in NBGRADER_OUTPUTS:
            files[str(relative)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def _log(result) -> str:
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("nbgrader-isolated")
    course_dir = course.make_course(root / "course")
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    logs = {}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in LIMITS_ENV.items():
            patch.setenv(key, value)
        logs["generate_assignment"] = _log(course.nbgrader(course_dir, "generate_assignment", spec.ASSIGNMENT))
        build.build(root / "class", release=course.release_path(course_dir))
        course.submit(course_dir, "solution", course_dir / "solutions" / spec.ASSIGNMENT / spec.NOTEBOOK)
        course.submit(course_dir, "untouched", course.release_path(course_dir))
        for student in STUDENTS:
            course.submit(course_dir, student, root / "class" / student / spec.ASSIGNMENT / spec.NOTEBOOK)
        logs["autograde"] = _log(course.nbgrader(course_dir, "autograde", spec.ASSIGNMENT, "--create"))
        logs["generate_feedback"] = _log(course.nbgrader(course_dir, "generate_feedback", spec.ASSIGNMENT))
        logs["export"] = _log(course.nbgrader(course_dir, "export"))

        values = {"course": course_dir, "outside": outside, "port": 9}
        for name, (answers, top, _) in HOSTILE.items():
            write_student(course_dir / "submitted", name, {k: fill(v, **values) for k, v in answers.items()},
                          fill(top, **values))
        before = _snapshot(course_dir)
        # Only the new students: nbgrader skips those already graded.
        logs["autograde hostile"] = _log(course.nbgrader(course_dir, "autograde", spec.ASSIGNMENT, "--create"))
        after = _snapshot(course_dir)
        limits = batch.Limits.from_env()
    csv_path = root / "isolated.csv"
    batch.grade_paths([course_dir / "submitted"], csv_path, jobs=2, limits=limits, force=True,
                      progress=False, quiet=True)
    rows = {row["student"]: row for row in batch.read_csv(csv_path)}
    return {"course": course_dir, "logs": logs, "scores": course.cell_scores(course_dir), "rows": rows,
            "before": before, "after": after, "outside": outside}


def _grade(course_dir: Path, student: str, cell_id: str):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade(cell_id, spec.NOTEBOOK.removesuffix(".ipynb"), spec.ASSIGNMENT, student)
        return float(grade.score), bool(grade.needs_manual_grade)


pytestmark = [pytest.mark.slow, needs_bwrap]


def test_every_student_is_graded_by_both(run):
    expected = {*STUDENTS, "solution", "untouched", *HOSTILE}
    assert set(run["scores"]) == expected
    assert set(run["rows"]) == expected


def test_scores_equal_msegrad_grade_per_student_and_cell(run):
    assert score_differences(run["scores"], run["rows"], spec.GRADE_CELLS) == []


def test_solution_earns_full_marks_and_the_release_zero(run):
    assert sum(run["scores"]["solution"].values()) == spec.MAX_SCORE
    assert sum(run["scores"]["untouched"].values()) == 0


@pytest.mark.parametrize("attack", sorted(HOSTILE))
def test_tampering_earns_nothing(run, attack):
    _, _, expect = HOSTILE[attack]
    cells = run["scores"][attack]
    for function in spec.FUNCTIONS:
        points = sum(cells[cell.id] for cell in spec.cells_for(function))
        wanted = expect[function]
        if wanted == "full":
            assert points == full(function), (attack, function, cells)
        elif wanted == "wrong":
            assert points < full(function), (attack, function, cells)
        elif wanted == "answer-key":
            # The answer key earns nothing, and a person is asked to look.
            flagged = all(_grade(run["course"], attack, cell.id)[1] for cell in spec.cells_for(function))
            assert points == 0 and flagged, (attack, function, cells, run["rows"][attack]["flags"])
        else:
            assert points == wanted, (attack, function, cells)


def test_nothing_outside_the_sandbox_changes(run):
    assert run["after"] == run["before"]       # solutions, submissions, config: byte for byte
    assert sorted(p.name for p in run["outside"].iterdir()) == ["secret.txt"]
    for path in PLANTED:
        assert not path.exists(), path
    with sqlite3.connect(run["course"] / "gradebook.db") as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "planted" not in tables
        assert db.execute("SELECT count(*) FROM grade WHERE manual_score IS NOT NULL").fetchone() == (0,)


@pytest.mark.parametrize("step", ["generate_assignment", "autograde", "generate_feedback", "export"])
def test_an_honest_class_graded_end_to_end_prints_no_warning(run, step):
    lines = [line for line in run["logs"][step].splitlines()
             if "WARNING" in line or "Warning" in line or "ERROR" in line]
    assert lines == []


def test_every_grade_cell_gets_an_explicit_result(run):
    for folder in sorted((run["course"] / "autograded").iterdir()):
        notebook = nbformat.read(folder / spec.ASSIGNMENT / spec.NOTEBOOK, as_version=4)
        for cell in notebook.cells:
            if cell.metadata.get("nbgrader", {}).get("grade"):
                kinds = [output.output_type for output in cell.outputs]
                assert kinds == ["stream", "execute_result"], (folder.name, cell.metadata.nbgrader.grade_id)
                assert cell.outputs[0].name == "stdout"
                float(cell.outputs[1].data["text/plain"])


def test_feedback_shows_each_check_and_hides_the_hidden_tests(run):
    html = course.feedback_path(run["course"], "charles").read_text()
    assert "dC_dyhat_matches_autograd" in html and "the 1/n of" in html
    assert "BEGIN HIDDEN TESTS" not in html and 'check(&quot;dC_dm_matches_autograd&quot;)' not in html


def test_student_cells_show_their_output_and_errors(run):
    notebook = nbformat.read(course.autograded_path(run["course"], "honest_lecture_style"), as_version=4)
    printed = "".join(output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
                      if not cell.metadata.get("nbgrader", {}).get("grade"))
    assert "tensor(" in printed
    notebook = nbformat.read(course.autograded_path(run["course"], "honest_with_a_broken_cell"), as_version=4)
    errors = [output for cell in notebook.cells for output in cell.get("outputs", [])
              if output.output_type == "error"]
    assert errors and "NameError" in errors[0].ename + errors[0].evalue


def test_the_in_kernel_switch_runs_nbgrader_s_execute_and_says_it_is_not_tamper_proof(run):
    result = course.nbgrader(run["course"], "autograde", spec.ASSIGNMENT, "--force", "--student=ada",
                             "--IsolatedExecute.in_kernel=True")
    assert "NOT tamper-proof" in _log(result)
    notebook = nbformat.read(course.autograded_path(run["course"], "ada"), as_version=4)
    assert notebook.cells[1].get("execution_count")       # a kernel ran the setup cell
    assert course.cell_scores(run["course"])["ada"] == run["scores"]["ada"]


def test_a_flagged_submission_needs_manual_grading_with_a_comment(run):
    """What the formgrader shows for `review` and `answer-key`: the grades marked, the answer cell commented."""
    from nbgrader.api import Gradebook

    from autograder.judge import CheckResult

    notebook = nbformat.read(course.autograded_path(run["course"], "grace"), as_version=4)
    graded = batch.Graded(row={}, flags=["answer-key"], notes=[], results=[
        CheckResult(cell.id, cell.points, cell.points, "ok", "answer-key" if cell.function == "dC_dm" else None)
        for cell in spec.GRADE_CELLS])
    review = runner.review_cells(notebook, graded, graded.flags)
    assert review == ["dC_dm_lecture_data", "dC_dm_matches_autograd"]
    db_url = f"sqlite:///{run['course'] / 'gradebook.db'}"
    resources = {"nbgrader": {"db_url": db_url, "notebook": spec.NOTEBOOK.removesuffix(".ipynb"),
                              "assignment": spec.ASSIGNMENT, "student": "grace"},
                 runner.RESOURCES_KEY: {"flags": graded.flags, "review": review}}
    runner.FlagForReview().preprocess(notebook, resources)
    for cell in spec.GRADE_CELLS:
        assert _grade(run["course"], "grace", cell.id)[1] == (cell.function == "dC_dm"), cell.id
    with Gradebook(db_url) as gradebook:
        comment = gradebook.find_comment("dC_dm_answer", "mse_gradient", spec.ASSIGNMENT, "grace").auto_comment
        other = gradebook.find_comment("dC_db_answer", "mse_gradient", spec.ASSIGNMENT, "grace").auto_comment
        assert "answer key" in comment and "review" in comment
        assert not other or "review" not in other
        assert gradebook.find_submission(spec.ASSIGNMENT, "grace").needs_manual_grade


# --- without nbgrader: what the runner writes ------------------------------------------------------

def _release_notebook():
    return nbformat.read(course.release_path(course.ROOT), as_version=4)


@pytest.mark.parametrize("value, expected", [(1.5, 1.5), (-1, 0.0), (float("nan"), 0.0), (float("inf"), 0.0),
                                             (7, 2.0), ("x", 0.0), (0.666666, 0.67)])
def test_points_are_what_nbgrader_can_read(value, expected):
    assert runner._points(value, 2.0) == expected


def test_a_grader_failure_writes_zero_to_every_grade_cell():
    notebook = _release_notebook()
    runner.write_results(notebook, None, "SandboxError: bwrap failed")
    grade_cells = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade")]
    assert len(grade_cells) == len(spec.GRADE_CELLS)
    for cell in grade_cells:
        assert cell.outputs[-1].data["text/plain"] == "0.0"
        assert "grader failed" in cell.outputs[0].text


def test_a_grade_cell_the_grader_does_not_know_gets_zero():
    notebook = _release_notebook()
    cell = next(cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade"))
    cell.metadata.nbgrader.grade_id = "made_up_check"
    graded = batch.Graded(row={}, results=[], flags=[], notes=[])
    runner.write_results(notebook, graded)
    assert cell.outputs[-1].data["text/plain"] == "0.0"


def test_export_shows_the_course_due_date(run):
    import csv

    from autograder.runners.nbgrader import due_date_utc
    with open(run["course"] / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and due_date_utc() is not None
    assert {row["duedate"] for row in rows} == {str(due_date_utc())}
    assert all(float(row["late_submission_penalty"] or 0) == 0 for row in rows)   # submitted before it


def test_the_sandboxes_start_with_the_seed_the_judge_uses(monkeypatch):
    """The runner reads the seed with config.seed_from_env (no torch), the very function every unit's cases use."""
    from autograder import assignments, cases, config

    assert cases.seed_from_env is config.seed_from_env
    assert all(unit.cases.seed_from_env is config.seed_from_env for unit in assignments.every())
    monkeypatch.setenv("MSEGRAD_SEED", "11")
    assert config.seed_from_env() == cases.seed_from_env() == 11
    assert config.seed_from_env(5) == 5


def _corrupted(change):
    """The solution notebook (every kind of nbgrader cell) with `change` applied to it."""
    notebook = nbformat.read(course.ROOT / "solutions" / spec.ASSIGNMENT / spec.NOTEBOOK, as_version=4)
    change(notebook)
    return notebook


def _nbgrader_cells(notebook, **wanted):
    return [cell for cell in notebook.cells
            if all(cell.metadata.get("nbgrader", {}).get(key) == value for key, value in wanted.items())]


CORRUPTIONS = {
    "as written": lambda nb: None,
    "points as text": lambda nb: _nbgrader_cells(nb, grade=True)[0].metadata.nbgrader.update(points="two"),
    "negative points": lambda nb: _nbgrader_cells(nb, grade=True)[0].metadata.nbgrader.update(points=-1),
    "no points": lambda nb: _nbgrader_cells(nb, grade=True)[0].metadata.nbgrader.pop("points"),
    "no grade_id": lambda nb: _nbgrader_cells(nb, grade=True)[0].metadata.nbgrader.pop("grade_id"),
    "empty grade_id": lambda nb: _nbgrader_cells(nb, grade=True)[0].metadata.nbgrader.update(grade_id=""),
    "grade as text": lambda nb: _nbgrader_cells(nb, grade=True)[0].metadata.nbgrader.update(grade="yes"),
    "unknown key": lambda nb: _nbgrader_cells(nb, grade=True)[0].metadata.nbgrader.update(secret=1),
    "duplicate ids": lambda nb: _nbgrader_cells(nb, grade=True)[1].metadata.nbgrader.update(
        grade_id=_nbgrader_cells(nb, grade=True)[0].metadata.nbgrader.grade_id),
    "markdown grade, no solution": lambda nb: (
        setattr(_nbgrader_cells(nb, grade=True)[0], "cell_type", "markdown"),
        _nbgrader_cells(nb, grade=True)[0].pop("outputs"), _nbgrader_cells(nb, grade=True)[0].pop("execution_count")),
    "old schema": lambda nb: _nbgrader_cells(nb, grade=True)[0].metadata.nbgrader.update(schema_version=2),
    "new schema": lambda nb: _nbgrader_cells(nb, grade=True)[0].metadata.nbgrader.update(schema_version=4),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_check_cell_metadata_decides_as_nbgrader_s(corruption):
    """The course's CheckCellMetadata (the schema checked once a run) passes and fails what nbgrader's does."""
    from nbgrader.preprocessors import CheckCellMetadata

    outcomes = []
    for checker in (CheckCellMetadata(), runner.CheckCellMetadata(), runner.CheckCellMetadata()):
        try:
            checker.preprocess(_corrupted(CORRUPTIONS[corruption]), {})
            outcomes.append("valid")
        except Exception as error:  # noqa: BLE001 (the kind and the words are what is compared)
            outcomes.append(f"{type(error).__name__}: {error}".splitlines()[0])
    assert outcomes[0] == outcomes[1] == outcomes[2]
    assert (outcomes[0] == "valid") == (corruption == "as written")


def test_nbgrader_and_nbformat_import_without_compiling_uri_grammars():
    """jsonschema 4.25+ loads rfc3987-syntax (39 lark grammars, 1.6 s) in every command: pyproject keeps it out."""
    import subprocess
    import sys

    code = "import sys, nbformat, nbgrader.apps\nprint(sorted({'rfc3987_syntax', 'lark'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_judge_warms_up_with_the_collector_off_and_leaves_its_objects_frozen():
    """torch's objects stay out of nbgrader's garbage collections; the collector is on again afterwards."""
    import subprocess
    import sys

    code = ("import gc\nfrom autograder import assignments, batch\nfrom autograder.runners import nbgrader\n"
            "nbgrader._warm_judge(0, batch.Limits.from_env(), assignments.get('mse-gradient'))\n"
            "import torch\nprint(gc.isenabled(), gc.get_freeze_count() > 100_000, "
            "any(obj is torch.Tensor for obj in gc.get_objects()))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "False"]
