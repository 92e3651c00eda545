"""Throughput of `msegrad grade` against `nbgrader autograde`, side by side on the same submissions.

    .venv/bin/python benchmarks/grade_throughput.py [--students 12] [--repeat 10] [--jobs 2]

Builds a temporary course (the repository's nbgrader_config.py and source
notebook, nbgrader's own release), submits the sample class's answers
(examples/submissions.py, honest styles and honest mistakes) cycled to
--students students, then times, in this one run:

1. `nbgrader autograde` on them (a fresh kernel per notebook);
2. `msegrad grade` on the same notebooks (sandbox start-up included);
3. `msegrad grade` on --repeat copies of each, for the steady rate a class
   of hundreds sees once the sandboxes are warm;

and prints seconds per notebook, the ratio, the time the students' own
code needs (their functions and top-level cells, as the probes time them),
and whether both graders gave every student the same points.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import batch, course, spec  # noqa: E402
from examples.build import answers_for  # noqa: E402
from examples.submissions import STUDENTS  # noqa: E402


def build_class(course_dir: Path, count: int) -> list[str]:
    release = course.generate_release(course_dir)
    names = list(STUDENTS)
    ids = []
    scratch = course_dir / "build"
    scratch.mkdir()
    for index in range(count):
        sample = names[index % len(names)]
        student = f"{sample}{index // len(names) or ''}"
        path = scratch / f"{student}.ipynb"
        import nbformat
        nbformat.write(course.fill_answers(release, answers_for(sample)), path)
        course.submit(course_dir, student, path)
        ids.append(student)
    return ids


def copies(submitted: Path, target: Path, repeat: int) -> int:
    count = 0
    for student in sorted(p.name for p in submitted.iterdir()):
        for copy in range(repeat):
            destination = target / f"{student}-{copy}" / spec.ASSIGNMENT / spec.NOTEBOOK
            destination.parent.mkdir(parents=True)
            shutil.copy2(submitted / student / spec.ASSIGNMENT / spec.NOTEBOOK, destination)
            count += 1
    return count


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=10, help="copies of each notebook for the steady-rate run")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="msegrad-bench-") as scratch:
        course_dir = course.make_course(Path(scratch) / "course")
        students = build_class(course_dir, args.students)
        submitted = course_dir / "submitted"
        print(f"{len(students)} submissions, {args.jobs} jobs, {os.cpu_count()} CPUs")

        started = time.perf_counter()
        failed = course.autograde(course_dir)
        nbgrader_seconds = time.perf_counter() - started
        nbgrader_scores = course.cell_scores(course_dir)

        csv_path = Path(scratch) / "grades.csv"
        started = time.perf_counter()
        summary = batch.grade_paths([submitted], csv_path, jobs=args.jobs, force=True, progress=False)
        msegrad_seconds = time.perf_counter() - started
        rows = {row["student"]: row for row in batch.read_csv(csv_path)}

        many = Path(scratch) / "many"
        count = copies(submitted, many, args.repeat)
        started = time.perf_counter()
        steady = batch.grade_paths([many], Path(scratch) / "many.csv", jobs=args.jobs, force=True, progress=False)
        steady_seconds = time.perf_counter() - started

    per_nbgrader = nbgrader_seconds / len(students)
    per_msegrad = msegrad_seconds / len(students)
    per_steady = steady_seconds / count
    per_warm = steady.steady_seconds_per_notebook
    per_student_code = steady.student_seconds / count
    print(f"nbgrader autograde : {nbgrader_seconds:7.1f} s  {per_nbgrader:6.3f} s/notebook"
          + (f"  ({len(failed)} left for manual grading: {', '.join(failed)})" if failed else ""))
    print(f"msegrad grade      : {msegrad_seconds:7.1f} s  {per_msegrad:6.3f} s/notebook  "
          f"(same {len(students)} notebooks, sandbox start-up included)  ratio {per_nbgrader / per_msegrad:5.1f}x")
    print(f"msegrad grade x{args.repeat:<3} : {steady_seconds:7.1f} s  {per_steady:6.3f} s/notebook  "
          f"({count} notebooks)  ratio {per_nbgrader / per_steady:5.1f}x")
    print(f"  after start-up   :            {per_warm:6.3f} s/notebook  (from the first row on)  "
          f"ratio {per_nbgrader / per_warm:5.1f}x")
    print(f"students' own code : {per_student_code:6.3f} s/notebook (serial)  ->  msegrad needs "
          f"{per_steady * args.jobs / per_student_code:4.2f}x that in worker time "
          f"({per_steady / per_student_code:4.2f}x in wall time with {args.jobs} jobs)")
    mismatches = []
    for student in students:
        ours = {cell.id: float(rows[student][cell.id]) for cell in spec.GRADE_CELLS}
        theirs = nbgrader_scores.get(student, {})
        for cell in spec.GRADE_CELLS:
            if abs(ours[cell.id] - float(theirs.get(cell.id, float("nan")))) > 1e-6:
                mismatches.append(f"{student}.{cell.id}: nbgrader {theirs.get(cell.id)}, msegrad {ours[cell.id]}")
    if mismatches:
        print(f"score mismatches ({len(mismatches)}):")
        for line in mismatches[:30]:
            print("  " + line)
    else:
        print(f"scores: identical for all {len(students)} students and {len(spec.GRADE_CELLS)} grade cells")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
