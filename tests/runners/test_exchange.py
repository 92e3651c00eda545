"""nbgrader's exchange end to end, as the README's instructor section walks it, on a local exchange folder.

The instructor releases; two students, each with the student kit, fetch,
work, check with the kit's `msegrad check` and submit; the instructor
collects, autogrades (isolated), generates and releases feedback and
exports; the students fetch their feedback.
"""
from __future__ import annotations

import csv
import re

import nbformat
import pytest

from autograder import batch, course, sandbox, spec
from examples.submissions import CORRECT, STUDENTS

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sandbox.choose_mode().sandboxed, reason="bubblewrap cannot run here")]

ANSWERS = {"alice": CORRECT, "bob": {**CORRECT, **STUDENTS["barbara"][1]}}   # bob forgets the 2 in dC/dm
INSTRUCTOR_STEPS = [("collect", spec.ASSIGNMENT), ("autograde", spec.ASSIGNMENT, "--create"),
                    ("generate_feedback", spec.ASSIGNMENT), ("release_feedback", spec.ASSIGNMENT), ("export",)]


@pytest.fixture(scope="module")
def exchange(tmp_path_factory, kit_env):
    root = tmp_path_factory.mktemp("exchange")
    outbox = root / "exchange"
    outbox.mkdir()
    outbox.chmod(0o777)          # nbgrader's exchange is a folder every user can write
    course_dir = course.make_course(root / "course")
    with open(course_dir / "nbgrader_config.py", "a") as config:
        # Every student here is the same OS user as the instructor: nbgrader would take that for cheating.
        config.write(f'\nc.Exchange.root = "{outbox}"\nc.ExchangeCollect.check_owner = False\n')
    logs = {}
    course.nbgrader(course_dir, "generate_assignment", spec.ASSIGNMENT)
    logs["release_assignment"] = course.nbgrader(course_dir, "release_assignment", spec.ASSIGNMENT)
    checked = {}
    for student, answers in ANSWERS.items():
        home = root / student
        home.mkdir()
        (home / "nbgrader_config.py").write_text(
            f'c = get_config()\nc.CourseDirectory.course_id = "{spec.ASSIGNMENT}"\nc.Exchange.root = "{outbox}"\n'
            # Each student's own record of what they submitted (in their home on a real machine).
            f'c.Exchange.cache = "{home / "nbgrader_cache"}"\n')
        course.nbgrader(home, "fetch_assignment", spec.ASSIGNMENT)
        fetched = home / spec.ASSIGNMENT / spec.NOTEBOOK
        nbformat.write(course.fill_answers(fetched, answers), fetched)
        checked[student] = kit_env.run("msegrad", "check", fetched, cwd=home, check=False).stdout
        course.nbgrader(home, "submit", spec.ASSIGNMENT, f"--student={student}")
    for step in INSTRUCTOR_STEPS:
        logs[step[0]] = course.nbgrader(course_dir, *step)
    for student in ANSWERS:
        course.nbgrader(root / student, "fetch_feedback", spec.ASSIGNMENT, f"--student={student}")
    csv_path = root / "isolated.csv"
    batch.grade_paths([course_dir / "submitted"], csv_path, jobs=1, force=True, progress=False, quiet=True)
    return {"root": root, "course": course_dir, "logs": logs, "checked": checked,
            "isolated": {row["student"]: row for row in batch.read_csv(csv_path)}}


def test_students_check_their_work_with_the_kit(exchange):
    assert "5/5 points on the visible checks" in exchange["checked"]["alice"]
    assert "[FAIL] dC_dm_lecture_data: 0/1" in exchange["checked"]["bob"]


def test_collect_puts_each_submission_where_autograde_reads_it(exchange):
    for student in ANSWERS:
        assert (exchange["course"] / "submitted" / student / spec.ASSIGNMENT / spec.NOTEBOOK).exists()
        assert (exchange["course"] / "submitted" / student / spec.ASSIGNMENT / "timestamp.txt").exists()


def test_export_has_the_isolated_scores(exchange):
    with open(exchange["course"] / "grades.csv") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert float(rows["alice"]["score"]) == spec.MAX_SCORE
    assert float(rows["bob"]["score"]) == spec.MAX_SCORE - 3
    scores = course.cell_scores(exchange["course"])
    for student in ANSWERS:
        for cell in spec.GRADE_CELLS:
            assert scores[student][cell.id] == pytest.approx(float(exchange["isolated"][student][cell.id]))


def test_each_student_fetches_their_own_feedback(exchange):
    for student, mark in (("alice", "[PASS] dC_dm_matches_autograd"), ("bob", "[FAIL] dC_dm_matches_autograd")):
        pages = list((exchange["root"] / student / spec.ASSIGNMENT / "feedback").glob("*/*.html"))
        assert len(pages) == 1, pages
        html = pages[0].read_text()
        assert mark in html
        assert "BEGIN HIDDEN TESTS" not in html


@pytest.mark.parametrize("step", [step[0] for step in INSTRUCTOR_STEPS] + ["release_assignment"])
def test_the_instructor_s_commands_print_no_warning(exchange, step):
    result = exchange["logs"][step]
    assert [line for line in (result.stdout + result.stderr).splitlines()
            if re.search(r"WARNING|Warning|ERROR", line)] == []
