"""``make demo``: grade the sample class with nbgrader, end to end, in the course directory.

1. regenerate the student release (exercises/) from solutions/;
2. put the sample class (examples/class/) into submitted/;
3. nbgrader autograde, generate_feedback and export;
4. print a table: student, score, the mistake found; and where the files are.
Later steps (isolated grading, report, videos) run when their parts are installed.
"""
from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from autograder import course, spec

CLASS_DIR = course.ROOT / "examples" / "class"


def _step(text: str) -> float:
    print(f"==> {text}", flush=True)
    return time.perf_counter()


def _done(started: float) -> None:
    print(f"    done in {time.perf_counter() - started:.1f} s", flush=True)


def mistake_summary(notebook: Path) -> str:
    """The first failing check's message, shortened, from an autograded notebook."""
    messages = course.check_messages(notebook)
    for cell in spec.GRADE_CELLS:
        mark, points, maximum, message = messages.get(cell.id, ("FAIL", 0, cell.points, "no result (did not run)"))
        if mark != "PASS":
            text = message.split("cases pass. ", 1)[-1]
            text = text.split(" (expected")[0].split(": expected")[0]
            return f"{cell.id}: {text[:110]}{'...' if len(text) > 110 else ''}"
    return "-"


def nbgrader_demo(course_dir: Path = course.ROOT) -> dict[str, dict[str, float]]:
    started = _step("nbgrader generate_assignment: solutions/ -> exercises/")
    course.generate_release(course_dir)
    _done(started)

    started = _step(f"submitting the sample class ({len(list(CLASS_DIR.iterdir()))} students) to submitted/")
    shutil.rmtree(course_dir / "submitted", ignore_errors=True)
    for notebook in sorted(CLASS_DIR.glob(f"*/{spec.ASSIGNMENT}/{spec.NOTEBOOK}")):
        course.submit(course_dir, notebook.parts[-3], notebook)
    _done(started)

    started = _step("nbgrader autograde (a fresh kernel per notebook)")
    failed = course.autograde(course_dir)
    _done(started)
    if failed:
        print(f"    nbgrader could not grade: {', '.join(failed)} (left for manual grading)")
    started = _step("nbgrader generate_feedback")
    course.generate_feedback(course_dir)
    _done(started)
    started = _step("nbgrader export")
    grades_csv = course.export(course_dir)
    _done(started)

    scores = course.cell_scores(course_dir)
    print()
    print(f"{'student':<11} {'score':>11}  mistake found")
    print(f"{'-' * 11} {'-' * 11}  {'-' * 60}")
    for student in sorted(scores):
        total = sum(scores[student].values())
        mistake = mistake_summary(course.autograded_path(course_dir, student))
        print(f"{student:<11} {total:>5g} / {spec.MAX_SCORE:<3g}  {mistake}")
    print()
    print(f"grades CSV:    {grades_csv}")
    print(f"feedback HTML: {course_dir / 'feedback'}/<student>/{spec.ASSIGNMENT}/"
          f"{spec.NOTEBOOK.replace('.ipynb', '.html')}")
    print(f"  for example  {course.feedback_path(course_dir, sorted(scores)[0])}")
    return scores


def main() -> int:
    try:
        nbgrader_demo()
    except course.NbgraderError as error:
        print(f"demo failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
