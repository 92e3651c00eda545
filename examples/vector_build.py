"""Writes assignment 2's sample class from its released notebook and examples/vector_submissions.py.

    python -m examples.vector_build            # rewrite examples/vector_class/
    python -m examples.vector_build --check    # exit 1 when examples/vector_class/ is out of date

Each student folder follows nbgrader's layout:
examples/vector_class/<student>/mse-gradient-vector/mse_gradient_vector.ipynb
(a folder of its own: examples/build.py rewrites examples/class/ whole).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

from autograder import course
from autograder.assignments.mse_gradient_vector import spec
from examples.vector_submissions import CORRECT, STUDENTS

CLASS_DIR = Path(__file__).resolve().parent / "vector_class"
RELEASE = course.ROOT / "exercises" / spec.ASSIGNMENT / spec.NOTEBOOK


def answers_for(student: str) -> dict[str, str | None]:
    """The student's answers, the correct one where the sample does not differ (None keeps the stub)."""
    _, answers, _, _ = STUDENTS[student]
    return {function: answers.get(function, CORRECT[function]) for function in spec.FUNCTIONS}


def build(target: Path, release: Path | None = None) -> list[Path]:
    written = []
    for student in STUDENTS:
        path = target / student / spec.ASSIGNMENT / spec.NOTEBOOK
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(course.fill_answers(release or RELEASE, answers_for(student)), path)
        written.append(path)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with examples/vector_class/ instead of writing")
    args = parser.parse_args(argv)
    if not args.check:
        shutil.rmtree(CLASS_DIR, ignore_errors=True)
        for path in build(CLASS_DIR):
            print(path.relative_to(course.ROOT))
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        fresh = build(Path(scratch))
        stale = [p for p in fresh if not (CLASS_DIR / p.relative_to(scratch)).exists()
                 or (CLASS_DIR / p.relative_to(scratch)).read_text() != p.read_text()]
    extra = {p.name for p in CLASS_DIR.iterdir()} - set(STUDENTS) if CLASS_DIR.exists() else set()
    if stale or extra:
        print("examples/vector_class/ is out of date; run `python -m examples.vector_build`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
