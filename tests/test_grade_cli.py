"""``msegrad grade``: finding students, the CSV (resumable, one row each), bad input, nbgrader's gradebook."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import batch, spec
from autograder.cli import main
from tests.adversarial.corpus import WRONG_DC_DM
from tests.adversarial.notebooks import full, scores_by_function, write_student

VENV_BIN = Path(sys.executable).parent
FAST = ["--timeout", "10", "--top-timeout", "10", "--no-progress"]
REPO = Path(__file__).resolve().parents[1]
SOLUTION = REPO / "solutions" / spec.ASSIGNMENT / spec.NOTEBOOK
RELEASE = REPO / "exercises" / spec.ASSIGNMENT / spec.NOTEBOOK


def _class(root: Path, students=("ada", "barbara", "grace")) -> Path:
    """A submitted/ folder: correct answers, except barbara's dC_dm (the 2 is missing)."""
    for student in students:
        write_student(root / "submitted", student, {"dC_dm": WRONG_DC_DM} if student == "barbara" else {})
    return root / "submitted"


def _rows(csv_path: Path) -> list[dict]:
    return batch.read_csv(csv_path)


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """One run over a class with broken notebooks, shared by the tests that only read its CSV."""
    root = tmp_path_factory.mktemp("class")
    submitted = _class(root)
    (submitted / "notjson" / spec.ASSIGNMENT).mkdir(parents=True)
    (submitted / "notjson" / spec.ASSIGNMENT / spec.NOTEBOOK).write_text("{ this is not json")
    (submitted / "notanotebook" / spec.ASSIGNMENT).mkdir(parents=True)
    (submitted / "notanotebook" / spec.ASSIGNMENT / spec.NOTEBOOK).write_text('{"hello": "world"}')
    (submitted / "noanswers" / spec.ASSIGNMENT).mkdir(parents=True)
    (submitted / "noanswers" / spec.ASSIGNMENT / spec.NOTEBOOK).write_text(
        '{"cells": [{"cell_type": "code", "source": "x = 1", "metadata": {}, "outputs": [], "execution_count": null}],'
        ' "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    (submitted / "nothing" / spec.ASSIGNMENT).mkdir(parents=True)     # the notebook was never submitted
    csv_path = root / "grades.csv"
    # The course's own notebooks too: the solution must earn everything, the untouched release nothing.
    code = main(["grade", str(submitted), str(SOLUTION), str(RELEASE), "--csv", str(csv_path), "--jobs", "2", *FAST])
    assert code == 0
    return root, csv_path



def _own_flags(row) -> set:
    """The row's flags about the submission (not about where it was graded, e.g. no-cgroup)."""
    return set(row["flags"].split()) - set(batch.ENVIRONMENT_FLAGS)

def test_csv_has_the_documented_columns_and_one_row_per_student(graded_class):
    _, csv_path = graded_class
    header = csv_path.read_text().splitlines()[0].split(",")
    assert header == ["student", "score", "max_score", *[cell.id for cell in spec.GRADE_CELLS], "flags",
                      "mistakes", "seconds", "assignment"]
    rows = _rows(csv_path)
    assert sorted(row["student"] for row in rows) == sorted(
        ["ada", "barbara", "grace", "notjson", "notanotebook", "noanswers", "nothing", "solutions", "exercises"])


def test_the_solution_earns_full_marks_and_the_untouched_release_none(graded_class):
    rows = {row["student"]: row for row in _rows(graded_class[1])}
    assert float(rows["solutions"]["score"]) == spec.MAX_SCORE and _own_flags(rows["solutions"]) == set()
    assert float(rows["exercises"]["score"]) == 0
    assert not set(rows["exercises"]["flags"].split()) & {"crash", "timeout", "killed", "top-level"}


def test_scores_follow_the_checks(graded_class):
    rows = {row["student"]: row for row in _rows(graded_class[1])}
    assert float(rows["ada"]["score"]) == spec.MAX_SCORE == float(rows["ada"]["max_score"])
    assert _own_flags(rows["ada"]) == set()
    barbara = scores_by_function(rows["barbara"])
    assert barbara["dC_dm"] == 0 and barbara["dC_db"] == full("dC_db") and barbara["sgd"] == full("sgd")
    # The named mistake of every cell that lost points, for `msegrad report`.
    mistakes = dict(word.split("=") for word in rows["barbara"]["mistakes"].split())
    assert sorted(mistakes) == ["dC_dm_lecture_data", "dC_dm_matches_autograd"]
    assert rows["ada"]["mistakes"] == "" and float(rows["ada"]["seconds"]) > 0


def test_invalid_notebooks_get_a_zero_row_that_says_why(graded_class):
    rows = {row["student"]: row for row in _rows(graded_class[1])}
    for student, flag in [("notjson", "not-json"), ("notanotebook", "not-notebook"),
                          ("noanswers", "no-answers"), ("nothing", "unreadable")]:
        assert float(rows[student]["score"]) == 0, student
        assert flag in rows[student]["flags"].split(), (student, rows[student]["flags"])


def test_a_second_run_grades_nobody_again_and_force_regrades(graded_class, capsys):
    root, csv_path = graded_class
    before = csv_path.read_text()
    assert main(["grade", str(root / "submitted"), "--csv", str(csv_path), *FAST]) == 0
    assert "graded 0 notebooks" in capsys.readouterr().out
    assert csv_path.read_text() == before


def test_paths_can_be_notebooks_student_folders_and_assignment_folders(tmp_path):
    class_root = _class(tmp_path, students=("ada", "grace"))
    lone = tmp_path / "loose" / "turing.ipynb"
    lone.parent.mkdir()
    lone.write_bytes((class_root / "ada" / spec.ASSIGNMENT / spec.NOTEBOOK).read_bytes())
    found = list(batch.discover([class_root / "ada", class_root / "grace" / spec.ASSIGNMENT, lone,
                                 class_root / "ada" / spec.ASSIGNMENT / spec.NOTEBOOK]))
    assert [s.student for s in found] == ["ada", "grace", "turing", "ada"]
    assert [s.student for s in batch.discover([tmp_path / "loose"])] == ["turing"]


def test_a_partial_last_line_is_dropped_and_its_student_regraded(tmp_path):
    submitted = _class(tmp_path, students=("ada", "grace"))
    csv_path = tmp_path / "grades.csv"
    header = ",".join(batch.COLUMNS)
    ada = ",".join(["ada", "16", "16", *["1"] * len(batch.CELL_IDS), "", "", "0.2", "mse-gradient"])
    csv_path.write_text(f"{header}\n{ada}\ngrace,3,16,1,")      # killed while writing grace's row
    assert main(["grade", str(submitted), "--csv", str(csv_path), "--jobs", "1", *FAST]) == 0
    rows = _rows(csv_path)
    assert [row["student"] for row in rows] == ["ada", "grace"]
    assert rows[0]["score"] == "16"           # kept as it was: not regraded
    assert float(rows[1]["score"]) == spec.MAX_SCORE


def _descendants(root: int) -> set[int]:
    parents = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as handle:
                    stat = handle.read()
                parents[int(name)] = int(stat[stat.rindex(b")") + 2:].split()[1])
            except (OSError, ValueError):
                pass
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pids) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                stat = handle.read()
            if stat[stat.rindex(b")") + 2:stat.rindex(b")") + 3] not in (b"Z", b"X"):
                alive.add(pid)
        except OSError:
            pass
    return alive


def test_sigkill_mid_run_then_rerun_gives_exactly_one_row_per_student(tmp_path):
    students = [f"s{index:02d}" for index in range(6)]
    submitted = _class(tmp_path, students=students)
    csv_path = tmp_path / "grades.csv"
    command = [str(VENV_BIN / "msegrad"), "grade", str(submitted), "--csv", str(csv_path), "--jobs", "2", *FAST]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if csv_path.exists() and csv_path.read_text().count("\n") >= 2:   # the header and a row
            break
        time.sleep(0.02)
    sandboxes = _descendants(process.pid)      # bwrap, the workers and whatever students run now
    process.send_signal(signal.SIGKILL)
    process.wait()
    first = _rows(csv_path)
    assert 1 <= len(first) < len(students)
    assert sandboxes
    # The sandboxes die with the grader (bwrap --die-with-parent and PID namespaces).
    deadline = time.monotonic() + 5
    while _alive(sandboxes) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _alive(sandboxes) == set()
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = _rows(csv_path)
    assert sorted(row["student"] for row in rows) == students
    assert all(float(row["score"]) == spec.MAX_SCORE for row in rows)
    assert f"already in the CSV" in result.stdout


def test_clear_errors_for_bad_input(tmp_path, capsys):
    submitted = _class(tmp_path, students=("ada",))
    assert main(["grade", str(tmp_path / "missing"), "--csv", str(tmp_path / "g.csv")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["grade", str(submitted), "--csv", str(tmp_path / "nofolder" / "g.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
    other = tmp_path / "other.csv"
    other.write_text("student,total,homework-1\nada,3,3\n")
    assert main(["grade", str(submitted), "--csv", str(other)]) == 2
    assert "other columns" in capsys.readouterr().err
    assert other.read_text() == "student,total,homework-1\nada,3,3\n"


def _gradebook(path: Path, auto_scores: dict) -> None:
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{path}") as book:
        book.update_or_create_assignment(spec.ASSIGNMENT)
        book.update_or_create_notebook("mse_gradient", spec.ASSIGNMENT)
        for cell in spec.GRADE_CELLS:
            book.update_or_create_grade_cell(cell.id, "mse_gradient", spec.ASSIGNMENT,
                                             max_score=cell.points, cell_type="code")
        for student, points in auto_scores.items():
            book.update_or_create_student(student)
            book.add_submission(spec.ASSIGNMENT, student)
            for cell in spec.GRADE_CELLS:
                grade = book.find_grade(cell.id, "mse_gradient", spec.ASSIGNMENT, student)
                grade.auto_score = points(cell)
        book.db.commit()


def test_gradebook_comparison_lists_higher_nbgrader_scores_and_writes_on_request(graded_class, tmp_path, monkeypatch):
    # `make test-user` installs only `.[test]`: no nbgrader there.
    pytest.importorskip("nbgrader", reason="nbgrader is not installed (extra `course`)")
    # nbgrader runs alembic as a program, from this environment's bin/.
    monkeypatch.setenv("PATH", f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    _, csv_path = graded_class
    database = tmp_path / "gradebook.db"
    # ada earned full marks both ways; barbara's kernel-side checks were fooled into full marks.
    _gradebook(database, {"ada": lambda cell: cell.points, "barbara": lambda cell: cell.points})
    comparison = batch.compare_gradebook(csv_path, database)
    assert [entry[0] for entry in comparison.higher] == ["barbara"]
    assert "barbara" in comparison.report()
    batch.compare_gradebook(csv_path, database, write=True)
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{database}") as book:
        assert book.find_submission(spec.ASSIGNMENT, "barbara").score == pytest.approx(
            float({row["student"]: row for row in _rows(csv_path)}["barbara"]["score"]))
    assert batch.compare_gradebook(csv_path, database).higher == []
