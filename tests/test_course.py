"""Real nbgrader, end to end: generate_assignment -> autograde -> generate_feedback -> export.

Runs once per session on a copy of the course in a temporary folder, with
the whole sample class submitted; autograde is the isolated one (the
course's sandbox), and each cell's score must equal the checks' own.
"""
import csv
import html as htmllib
import re

import nbformat
import pytest

from autograder import course, spec
from autograder.checks import run_check
from autograder.notebook import answer_code
from examples import build
from examples.submissions import STUDENTS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course_dir = course.make_course(tmp_path_factory.mktemp("course"))
    course.generate_release(course_dir)
    build.build(course_dir / "class", release=course.release_path(course_dir))
    # The solution notebook itself, as a student would submit it.
    course.submit(course_dir, "solution", course_dir / "solutions" / spec.ASSIGNMENT / spec.NOTEBOOK)
    course.submit(course_dir, "untouched", course.release_path(course_dir))
    for student in STUDENTS:
        course.submit(course_dir, student, course_dir / "class" / student / spec.ASSIGNMENT / spec.NOTEBOOK)
    failed = course.autograde(course_dir)
    course.generate_feedback(course_dir)
    grades_csv = course.export(course_dir)
    return course_dir, failed, course.cell_scores(course_dir), grades_csv


def test_every_submission_is_graded(graded):
    course_dir, failed, scores, _ = graded
    assert failed == []
    assert set(scores) == set(STUDENTS) | {"solution", "untouched"}
    for student, cells in scores.items():
        assert set(cells) == {cell.id for cell in spec.GRADE_CELLS}, student


def test_solution_earns_full_marks_and_the_release_zero(graded):
    _, _, scores, _ = graded
    assert sum(scores["solution"].values()) == spec.MAX_SCORE
    assert sum(scores["untouched"].values()) == 0


@pytest.mark.parametrize("student", sorted(STUDENTS))
def test_scores_per_cell(graded, student):
    """Functions without a mistake earn full marks; the mistaken one loses points; per cell the
    score equals what the same checks give outside nbgrader."""
    course_dir, _, scores, _ = graded
    _, _, expected_mistakes = STUDENTS[student]
    cells = scores[student]
    for cell in spec.GRADE_CELLS:
        if cell.function not in expected_mistakes:
            assert cells[cell.id] == cell.points, (student, cell.id)
    for function in expected_mistakes:
        lost = sum(c.points - cells[c.id] for c in spec.cells_for(function))
        assert lost > 0, (student, function)
    namespace: dict = {}
    notebook = course_dir / "submitted" / student / spec.ASSIGNMENT / spec.NOTEBOOK
    exec(compile(answer_code(notebook), str(notebook), "exec"), namespace)
    for cell in spec.GRADE_CELLS:
        assert run_check(cell.id, namespace).points == pytest.approx(cells[cell.id]), (student, cell.id)


@pytest.mark.parametrize("student", sorted(s for s, (_, _, m) in STUDENTS.items() if m))
def test_feedback_names_the_mistake(graded, student):
    course_dir, _, _, _ = graded
    _, _, expected_mistakes = STUDENTS[student]
    html = course.feedback_path(course_dir, student).read_text()
    messages = course.check_messages(course.autograded_path(course_dir, student))
    from autograder.judge import _sentence

    for function, mistake in expected_mistakes.items():
        sentence = _sentence(function, mistake)
        failing = [messages[c.id][3] for c in spec.cells_for(function) if messages[c.id][0] != "PASS"]
        assert any(sentence in message for message in failing), (student, function, failing)
        # The feedback page shows it (wrapped over lines, HTML-escaped).
        assert sentence in re.sub(r"\s+", " ", htmllib.unescape(html)), student


def test_feedback_hides_the_hidden_tests(graded):
    course_dir, _, _, _ = graded
    html = course.feedback_path(course_dir, "ada").read_text()
    assert "BEGIN HIDDEN TESTS" not in html
    assert 'check(&quot;dC_dm_matches_autograd&quot;)' not in html and 'check("dC_dm_matches_autograd")' not in html


def test_export_writes_every_student(graded):
    _, _, scores, grades_csv = graded
    with open(grades_csv) as handle:
        rows = list(csv.DictReader(handle))
    by_student = {row["student_id"]: float(row["score"]) for row in rows}
    assert by_student == pytest.approx({s: sum(c.values()) for s, c in scores.items()})


def test_checks_write_nothing_to_stderr(graded):
    """nbgrader scores a test cell with stderr output 0: no check may write any."""
    course_dir, _, _, _ = graded
    for student in STUDENTS:
        notebook = nbformat.read(course.autograded_path(course_dir, student), as_version=4)
        for cell in notebook.cells:
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
                names = [o.get("name") for o in cell.get("outputs", []) if o.get("output_type") == "stream"]
                assert "stderr" not in names, (student, cell.metadata.nbgrader.grade_id)
