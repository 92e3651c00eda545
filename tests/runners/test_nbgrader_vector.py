"""Real `nbgrader autograde` of the second assignment, isolated: the same numbers as `msegrad grade`.

One course in a temporary folder holds both assignments. Assignment 2's
sample class (examples/vector_submissions.py: three correct styles, every
catalogued mistake, a stub, a crash, an endless loop), its solution, its
untouched release and two hostile students (the answer key, and the
solutions read from the course folder) are autograded through the course's
IsolatedExecute. Per student and per cell the points equal `msegrad grade`'s
on the same files, and the hostile ones earn nothing.
"""
from __future__ import annotations

import nbformat
import pytest

from autograder import assignments, batch, course, sandbox
from examples import vector_build
from examples.vector_submissions import STUDENTS
from runners import score_differences

needs_bwrap = pytest.mark.skipif(not sandbox.choose_mode().sandboxed,
                                 reason="bubblewrap cannot run here: " + sandbox.choose_mode().reason)
pytestmark = [pytest.mark.slow, needs_bwrap]
LIMITS_ENV = {"MSEGRAD_TIMEOUT": "6", "MSEGRAD_TOP_TIMEOUT": "6"}
UNIT = assignments.get("mse-gradient-vector")
SPEC = UNIT.spec

ANSWER_KEY = "from autograder.assignments.mse_gradient_vector.reference import grad_w, grad_b\n"
STEAL = '''import json
def _stolen():
    for name in ("../../../solutions/mse-gradient-vector/mse_gradient_vector.ipynb",
                 "{course}/solutions/mse-gradient-vector/mse_gradient_vector.ipynb"):
        try:
            for cell in json.load(open(name))["cells"]:
                if "BEGIN SOLUTION" in "".join(cell["source"]):
                    exec("".join(cell["source"]), globals())
        except Exception:
            pass
_stolen()
'''


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("nbgrader-vector")
    course_dir = course.make_course(root / "course")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in LIMITS_ENV.items():
            patch.setenv(key, value)
        release = course.generate_release(course_dir, UNIT)
        vector_build.build(root / "class", release=release)
        course.submit(course_dir, "solution", course_dir / "solutions" / UNIT.name / SPEC.NOTEBOOK, UNIT)
        course.submit(course_dir, "untouched", release, UNIT)
        for student in STUDENTS:
            course.submit(course_dir, student, root / "class" / student / UNIT.name / SPEC.NOTEBOOK, UNIT)
        hostile = {"answer_key": {"grad_w": ANSWER_KEY},
                   "steal_solutions": {name: STEAL.format(course=course_dir) if name == "grad_w" else None
                                       for name in SPEC.FUNCTIONS}}
        for student, answers in hostile.items():
            filled = course.fill_answers(release, {name: source for name, source in answers.items()
                                                   if source is not None})
            path = root / f"{student}.ipynb"
            nbformat.write(filled, path)
            course.submit(course_dir, student, path, UNIT)
        course.autograde(course_dir, assignment=UNIT)
        limits = batch.Limits.from_env()
    csv_path = root / "isolated.csv"
    batch.grade_paths([course_dir / "submitted"], csv_path, jobs=2, limits=limits, force=True,
                      progress=False, quiet=True)
    rows = {row["student"]: row for row in batch.read_csv(csv_path)}
    return {"course": course_dir, "scores": course.cell_scores(course_dir, UNIT), "rows": rows,
            "review": course.needs_manual_grade(course_dir, UNIT)}


def test_every_student_is_graded_by_both_and_the_csv_names_the_assignment(run):
    expected = {*STUDENTS, "solution", "untouched", "answer_key", "steal_solutions"}
    assert set(run["scores"]) == expected
    assert set(run["rows"]) == expected
    assert {row["assignment"] for row in run["rows"].values()} == {UNIT.name}


def test_scores_equal_msegrad_grade_per_student_and_cell(run):
    assert score_differences(run["scores"], run["rows"], SPEC.GRADE_CELLS) == []


def test_the_sample_class_gets_its_expected_scores(run):
    expected = {student: STUDENTS[student][3] for student in STUDENTS}
    got = {student: sum(run["scores"][student].values()) for student in STUDENTS}
    assert got == pytest.approx(expected)
    assert sum(run["scores"]["solution"].values()) == SPEC.MAX_SCORE
    assert sum(run["scores"]["untouched"].values()) == 0


def test_the_answer_key_and_stolen_solutions_earn_nothing(run):
    key = run["scores"]["answer_key"]
    assert sum(key[cell.id] for cell in SPEC.cells_for("grad_w")) == 0
    assert "answer-key" in run["rows"]["answer_key"]["flags"].split()
    assert "answer_key" in run["review"]
    assert sum(run["scores"]["steal_solutions"].values()) == 0
