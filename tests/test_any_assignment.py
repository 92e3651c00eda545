"""A third assignment is one folder and one line of configuration.

In a temporary copy of the course, a one-function toy assignment
(tests/fixtures/toy_unit: `double(x)` returns 2 x) is added as
autograder/assignments/toy/ with its nbgrader source notebook and one line in
course.toml's [assignments]. Without any other change to the code, nbgrader
releases and autogrades it through the isolated grader, and `msegrad grade`
finds it from nbgrader's layout and gives the same points; the code of the
other assignments is byte for byte the repository's.
"""
from __future__ import annotations

import csv
import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "toy_unit"
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")

ANSWERS = {"ana": "def double(x):\n    return 2 * x\n",
           "bob": "def double(x):\n    return x\n",
           "cyd": "def double(x):\n    while True:\n        pass\n"}


def _cell(kind: str, source: str, grade_id: str, *, solution=False, grade=False, locked=False, points=0):
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    cell = make(source)
    meta = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": locked, "schema_version": 3}
    if grade:
        meta["points"] = points
    cell.metadata["nbgrader"] = meta
    return cell


def _toy_source() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [
        _cell("markdown", "# Doubling\n\nWrite `double(x)`: it returns 2 x.", "intro", locked=True),
        _cell("code", "import torch\nfrom autograder.assignments.toy.data import START", "setup", locked=True),
        _cell("code", "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
              "double_answer", solution=True),
        _cell("code", "from autograder.checks import check\ncheck(\"double_values\")", "double_values",
              grade=True, locked=True, points=2),
    ]
    return notebook


@pytest.fixture(scope="module")
def toy_course(tmp_path_factory) -> Path:
    course = tmp_path_factory.mktemp("course") / "course"
    course.mkdir()
    shutil.copytree(ROOT / "autograder", course / "autograder", ignore=IGNORE)
    shutil.copytree(ROOT / "solutions", course / "solutions", ignore=IGNORE)
    shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    # The one folder ...
    shutil.copytree(FIXTURE, course / "autograder" / "assignments" / "toy", ignore=IGNORE)
    (course / "solutions" / "toy").mkdir()
    nbformat.write(_toy_source(), course / "solutions" / "toy" / "toy.ipynb")
    # ... and the one line.
    lines = (ROOT / "course.toml").read_text().splitlines(keepends=True)
    table = lines.index("[assignments]\n")
    end = next(index for index in range(table, len(lines)) if not lines[index].strip())
    lines.insert(end, 'toy = "autograder.assignments.toy"\n')     # the table's last line
    (course / "course.toml").write_text("".join(lines))
    return course


def _run(course: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(course), "MSEGRAD_CONFIG": str(course / "course.toml"),
           "MSEGRAD_TIMEOUT": "4", "MSEGRAD_TOP_TIMEOUT": "10",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([sys.executable, *args], cwd=course, env=env, capture_output=True, text=True,
                          timeout=timeout)


def _submit(course: Path) -> None:
    release = nbformat.read(course / "exercises" / "toy" / "toy.ipynb", as_version=4)
    for student, answer in ANSWERS.items():
        notebook = nbformat.from_dict(release)
        for cell in notebook.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "double_answer":
                cell.source = answer
        folder = course / "submitted" / student / "toy"
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / "toy.ipynb")


def test_a_third_assignment_is_graded_by_nbgrader_and_msegrad_alike(toy_course):
    course = toy_course
    released = _run(course, "-m", "nbgrader", "generate_assignment", "toy", "--force")
    assert released.returncode == 0, released.stdout[-2000:] + released.stderr[-2000:]
    stub = nbformat.read(course / "exercises" / "toy" / "toy.ipynb", as_version=4)
    assert "BEGIN SOLUTION" not in "".join(cell.source for cell in stub.cells)
    _submit(course)

    graded = _run(course, "-c", "import sys; from autograder.cli import main; "
                                "sys.exit(main(['grade', 'submitted', '--csv', 'grades.csv', '--jobs', '1']))")
    assert graded.returncode == 0, graded.stdout[-2000:] + graded.stderr[-3000:]
    with open(course / "grades.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(ANSWERS)
    assert {row["assignment"] for row in rows.values()} == {"toy"}
    assert [float(rows[name]["double_values"]) for name in ("ana", "bob", "cyd")] == [2.0, 0.0, 0.0]
    assert rows["bob"]["mistakes"] == "double_values=no_double"
    assert "timeout" in rows["cyd"]["flags"].split()

    autograded = _run(course, "-m", "nbgrader", "autograde", "toy", "--create", "--force", timeout=900)
    assert autograded.returncode == 0, autograded.stdout[-2000:] + autograded.stderr[-3000:]
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in ANSWERS:
            submission = gradebook.find_submission_notebook("toy", "toy", student)
            scores = {grade.name: float(grade.score) for grade in submission.grades}
            assert scores == {"double_values": float(rows[student]["double_values"])}, student

    # The other assignments' code was not touched: the copy's files are the repository's.
    for path in (ROOT / "autograder").rglob("*.py"):
        relative = path.relative_to(ROOT / "autograder")
        assert filecmp.cmp(path, course / "autograder" / relative, shallow=False), relative
