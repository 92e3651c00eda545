"""Driving nbgrader on a course directory: release, submit, autograde, feedback, export.

The repository root is a course directory (nbgrader_config.py, solutions/,
exercises/). Tests and the demo can also work on a copy in a temporary
folder, so nothing they do touches the committed release.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat


ROOT = Path(__file__).resolve().parent.parent
COURSE_FILES = ("nbgrader_config.py", "solutions")
RESULT_LINE = re.compile(r"^\[(PASS|PART|FAIL)\] (\w+): ([\d.]+)/([\d.]+)  (.*)$")


class NbgraderError(RuntimeError):
    pass


def _own(assignment=None):
    """The spec of an assignment (an id, an Assignment, or None: the course's first)."""
    from autograder import assignments
    return assignments.get(assignment).spec


def _env() -> dict:
    env = dict(os.environ)
    # nbgrader runs alembic as a program: the venv's bin/ must be on PATH.
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.setdefault("PYTHONHASHSEED", "0")
    return env


STUDENT_FAILED = re.compile(r"There was an error processing assignment '[^']*' for student '([^']*)'")


def nbgrader(course_dir: Path, *args: str, quiet: bool = True,
             allow_student_failures: bool = False, on_line=None) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in the course directory; NbgraderError with its log when it fails.

    With ``allow_student_failures``, a run that failed only for some students
    (nbgrader still grades the others) is not an error. ``on_line`` receives
    each line of nbgrader's log as it comes.
    """
    command = [sys.executable, "-m", "nbgrader", *args]
    if on_line is None:
        result = subprocess.run(command, cwd=course_dir, env=_env(), capture_output=True, text=True)
    else:
        # Stream the log so a long run can show progress.
        process = subprocess.Popen(command, cwd=course_dir, env=_env(), stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        lines = []
        for line in process.stdout:
            lines.append(line)
            on_line(line)
        result = subprocess.CompletedProcess(command, process.wait(), "".join(lines), "")
    per_student = allow_student_failures and STUDENT_FAILED.search(result.stdout + result.stderr)
    if result.returncode != 0 and not per_student:
        raise NbgraderError(f"`nbgrader {' '.join(args)}` failed ({result.returncode}):\n"
                            f"{result.stdout[-3000:]}{result.stderr[-3000:]}")
    if not quiet:
        sys.stdout.write(result.stdout)
    return result


def make_course(target: Path) -> Path:
    """A fresh course directory at ``target`` with the repository's config and source notebooks."""
    target.mkdir(parents=True, exist_ok=True)
    for name in COURSE_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target / name)
    return target


def release_path(course_dir: Path, assignment=None) -> Path:
    own = _own(assignment)
    return course_dir / "exercises" / own.ASSIGNMENT / own.NOTEBOOK


def generate_release(course_dir: Path, assignment=None) -> Path:
    """``nbgrader generate_assignment``: solutions/ -> exercises/ (stubs, hidden tests removed)."""
    own = _own(assignment)
    nbgrader(course_dir, "generate_assignment", own.ASSIGNMENT, "--force")
    return release_path(course_dir, assignment)


def fill_answers(release: Path, answers: dict[str, str | None]):
    """The release notebook with answer cells replaced: {function: source}; None keeps the stub."""
    notebook = nbformat.read(release, as_version=4)
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        function = grade_id[: -len("_answer")] if grade_id.endswith("_answer") else None
        if function in answers and answers[function] is not None:
            cell.source = answers[function].rstrip("\n")
    return notebook


def submit(course_dir: Path, student: str, notebook_path: Path, assignment=None) -> Path:
    """Put a notebook where nbgrader expects a submission."""
    own = _own(assignment)
    target = course_dir / "submitted" / student / own.ASSIGNMENT / own.NOTEBOOK
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(notebook_path, target)
    return target


AUTOGRADING = re.compile(r"Autograding .*[/\\]autograded[/\\]([^/\\]+)[/\\]")


def autograde(course_dir: Path, progress: bool = False, assignment=None) -> list[str]:
    """``nbgrader autograde``; returns the students nbgrader could not grade (left for manual grading).

    With ``progress``, prints a line as each student's notebook starts.
    """
    own = _own(assignment)
    total = len(list((course_dir / "submitted").glob(f"*/{own.ASSIGNMENT}")))
    started, seen = time.perf_counter(), []

    def show(line: str) -> None:
        match = AUTOGRADING.search(line)
        if match:
            seen.append((match.group(1), time.perf_counter()))
            elapsed = seen[-1][1] - started
            # Rate from the notebooks finished so far (start-up before the first left out).
            per_notebook = (seen[-1][1] - seen[0][1]) / (len(seen) - 1) if len(seen) > 1 else 0
            eta = per_notebook * (total - len(seen) + 1)
            print(f"    [{len(seen):>3}/{total}] {match.group(1):<16} {elapsed:6.1f} s"
                  f"{f', about {eta:.0f} s left' if len(seen) > 1 else ''}", flush=True)

    result = nbgrader(course_dir, "autograde", own.ASSIGNMENT, "--create", "--force",
                      allow_student_failures=True, on_line=show if progress else None)
    return sorted(set(STUDENT_FAILED.findall(result.stdout + result.stderr)))


def generate_feedback(course_dir: Path, assignment=None) -> None:
    own = _own(assignment)
    nbgrader(course_dir, "generate_feedback", own.ASSIGNMENT, "--force")


def export(course_dir: Path) -> Path:
    nbgrader(course_dir, "export")
    return course_dir / "grades.csv"


def cell_scores(course_dir: Path, assignment=None) -> dict[str, dict[str, float]]:
    """{student: {grade cell id: score}} from the gradebook."""
    own = _own(assignment)
    from nbgrader.api import Gradebook

    scores: dict[str, dict[str, float]] = {}
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        found = gradebook.find_assignment(own.ASSIGNMENT)
        for submission in found.submissions:
            notebook = gradebook.find_submission_notebook(own.NOTEBOOK.removesuffix(".ipynb"),
                                                          own.ASSIGNMENT, submission.student.id)
            scores[submission.student.id] = {grade.name: float(grade.score) for grade in notebook.grades}
    return scores


def needs_manual_grade(course_dir: Path, assignment=None) -> set[str]:
    """Students with a grade nbgrader marks as needing manual grading (the formgrader shows them)."""
    own = _own(assignment)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        found = gradebook.find_assignment(own.ASSIGNMENT)
        return {submission.student.id for submission in found.submissions if submission.needs_manual_grade}


def check_messages(notebook_path: Path) -> dict[str, tuple[str, float, float, str]]:
    """{cell id: (PASS|PART|FAIL, points, max, message)} printed by the checks in an executed notebook."""
    notebook = nbformat.read(notebook_path, as_version=4)
    found = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                # A result is one line, or wrapped with indented continuation lines.
                text = re.sub(r"\n {7}", " ", output.get("text", ""))
                for line in text.splitlines():
                    match = RESULT_LINE.match(line)
                    if match:
                        mark, cell_id, points, maximum, message = match.groups()
                        found[cell_id] = (mark, float(points), float(maximum), message)
    return found


def feedback_path(course_dir: Path, student: str, assignment=None) -> Path:
    own = _own(assignment)
    return course_dir / "feedback" / student / own.ASSIGNMENT / own.NOTEBOOK.replace(".ipynb", ".html")


def autograded_path(course_dir: Path, student: str, assignment=None) -> Path:
    own = _own(assignment)
    return course_dir / "autograded" / student / own.ASSIGNMENT / own.NOTEBOOK
