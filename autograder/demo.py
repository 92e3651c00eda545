"""``make demo``: the whole course on the sample classes, in the course directory.

For every assignment of the course (course.toml's [assignments]):

1. regenerate the student release (exercises/<id>/) from solutions/;
2. put its sample class (examples/*/<student>/<id>/) into submitted/;
3. nbgrader autograde (isolated: each submission runs in the course's
   sandbox, judged as ``msegrad grade`` judges it), generate_feedback and
   export;
4. print a table: student, score, the mistake found, and who needs a person
   to look (nbgrader's "needs manual grade");
5. grade the same submissions with ``msegrad grade`` and show both scores
   side by side (they are the same numbers), then write the class report;

then nbgrader export (every assignment's grades in one CSV), the class
reports' index, the videos at low quality and the lessons in HTML (which
embed them); and print where every file is.
"""
from __future__ import annotations

import re
import shutil
import sys
import time
from pathlib import Path

from autograder import assignments, course

EXAMPLES = course.ROOT / "examples"


def class_notebooks(unit: assignments.Assignment) -> list[Path]:
    """The sample class of an assignment: examples/<any>/<student>/<id>/<notebook>."""
    return sorted(EXAMPLES.glob(f"*/*/{unit.name}/{unit.spec.NOTEBOOK}"))


def _step(text: str) -> float:
    print(f"==> {text}", flush=True)
    return time.perf_counter()


def _done(started: float) -> None:
    print(f"    done in {time.perf_counter() - started:.1f} s", flush=True)


def mistake_summary(notebook: Path, unit: assignments.Assignment | None = None) -> str:
    """The first failing check's message, shortened, from an autograded notebook."""
    messages = course.check_messages(notebook)
    for cell in assignments.get(unit).spec.GRADE_CELLS:
        mark, points, maximum, message = messages.get(cell.id, ("FAIL", 0, cell.points, "no result (did not run)"))
        if mark != "PASS":
            # The sentence's first clause names the mistake; the rest explains it.
            text = re.sub(r"^\d+/\d+ cases pass[^.]*\.\s*", "", message)
            text = re.split(r": | \(|; |\. ", text, maxsplit=1)[0]
            return text
    return "-"


def nbgrader_demo(course_dir: Path = course.ROOT, unit: assignments.Assignment | None = None
                  ) -> dict[str, dict[str, float]]:
    unit = assignments.get(unit)
    spec = unit.spec
    started = _step(f"{unit.name}: nbgrader generate_assignment: solutions/ -> exercises/")
    course.generate_release(course_dir, unit)
    _done(started)

    notebooks = class_notebooks(unit)
    started = _step(f"{unit.name}: submitting the sample class ({len(notebooks)} students) to submitted/")
    for folder in (course_dir / "submitted").glob(f"*/{unit.name}"):
        shutil.rmtree(folder, ignore_errors=True)
    for notebook in notebooks:
        course.submit(course_dir, notebook.parts[-3], notebook, unit)
    _done(started)

    started = _step(f"{unit.name}: nbgrader autograde (isolated: the course's sandbox, msegrad grade's judge)")
    failed = course.autograde(course_dir, progress=True, assignment=unit)
    _done(started)
    if failed:
        print(f"    nbgrader could not grade: {', '.join(failed)} (left for manual grading)")
    started = _step(f"{unit.name}: nbgrader generate_feedback")
    course.generate_feedback(course_dir, unit)
    _done(started)

    scores = course.cell_scores(course_dir, unit)
    review = course.needs_manual_grade(course_dir, unit)
    print()
    print(f"{'student':<11} {'score':>11}  mistake found")
    print(f"{'-' * 11} {'-' * 11}  {'-' * 60}")
    for student in sorted(scores):
        total = sum(scores[student].values())
        mistake = mistake_summary(course.autograded_path(course_dir, student, unit), unit)
        flag = "   [needs manual grade]" if student in review else ""
        print(f"{student:<11} {total:>5g} / {spec.MAX_SCORE:<3g}  {mistake}{flag}")
    print()
    print(f"feedback HTML: {course_dir / 'feedback'}/<student>/{spec.ASSIGNMENT}/"
          f"{spec.NOTEBOOK.replace('.ipynb', '.html')}")
    print(f"  for example  {course.feedback_path(course_dir, sorted(scores)[0], unit)}")
    return scores


def isolated_demo(nbgrader_scores: dict[str, dict[str, float]], course_dir: Path = course.ROOT,
                  unit: assignments.Assignment | None = None) -> Path:
    from autograder import batch, report

    unit = assignments.get(unit)
    out = course_dir / "out"
    out.mkdir(parents=True, exist_ok=True)
    grades_csv = out / f"grades-{unit.name}.csv"
    started = _step(f"{unit.name}: msegrad grade: the same submissions outside nbgrader (the same sandbox and judge)")
    summary = batch.grade_paths([course_dir / "submitted"], grades_csv, force=True, assignment=unit,
                                feedback=out / "feedback-isolated" / unit.name, progress=False, quiet=True)
    _done(started)
    print(f"    {summary.line()}")
    rows = {row["student"]: row for row in batch.read_csv(grades_csv)}
    print()
    print(f"{'student':<11} {'nbgrader':>9} {'msegrad':>8}  flags")
    print(f"{'-' * 11} {'-' * 9} {'-' * 8}  {'-' * 30}")
    for student in sorted(set(rows) | set(nbgrader_scores)):
        ours = rows.get(student, {})
        theirs = sum(nbgrader_scores.get(student, {}).values())
        isolated = float(ours.get("score", "nan"))
        mark = "" if abs(theirs - isolated) < 1e-6 else "   <- differs"
        print(f"{student:<11} {theirs:>9g} {isolated:>8g}  {ours.get('flags', '')}{mark}")
    print()
    started = _step(f"{unit.name}: msegrad report: the class report")
    page = report.write_report(grades_csv, out / "report" / unit.name)
    _done(started)
    print(f"isolated grades CSV:    {grades_csv}")
    print(f"isolated feedback HTML: {out / 'feedback-isolated' / unit.name}/<student>.html")
    print(f"class report:           {page}")
    return grades_csv


def media_demo(course_dir: Path = course.ROOT) -> None:
    from animations import render
    from course import export

    # Videos first: the exported lessons embed the videos that exist when they run.
    started = _step("videos: render every scene at low quality")
    videos = render.render(quality="low", progress=False)
    _done(started)
    for video in videos:
        print(f"video: {video}")
    started = _step("lessons: execute and export to HTML")
    export.main(["--out", str(course_dir / "out" / "lessons")])
    _done(started)


def main() -> int:
    from autograder import report
    try:
        csvs = []
        for unit in assignments.every():
            scores = nbgrader_demo(course.ROOT, unit)
            csvs.append(isolated_demo(scores, course.ROOT, unit))
        started = _step("nbgrader export: every assignment's grades in one CSV")
        print(f"    grades CSV: {course.export(course.ROOT)}")
        _done(started)
        index = report.write_index(csvs, course.ROOT / "out" / "report")
        print(f"class reports: {index}")
        media_demo()
    except Exception as error:  # any step: say which and stop, with the message
        print(f"demo failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
