"""Writes assignment 2's sample class from its released notebook and examples/vector_submissions.py.

    python -m examples.vector_build            # rewrite examples/vector_class/
    python -m examples.vector_build --check    # exit 1 when examples/vector_class/ is out of date

Each student folder follows nbgrader's layout:
examples/vector_class/<student>/mse-gradient-vector/mse_gradient_vector.ipynb
(a folder of its own: examples/build.py rewrites examples/class/ whole).
"""
from __future__ import annotations

import sys
from pathlib import Path

from autograder import course
from autograder.assignments.mse_gradient_vector import spec
from examples.build import class_answers, run, write_class
from examples.vector_submissions import CORRECT, STUDENTS

CLASS_DIR = Path(__file__).resolve().parent / "vector_class"
RELEASE = course.ROOT / "exercises" / spec.ASSIGNMENT / spec.NOTEBOOK


def answers_for(student: str) -> dict[str, str | None]:
    """The student's answers, the correct one where the sample does not differ (None keeps the stub)."""
    return class_answers(STUDENTS, CORRECT, spec.FUNCTIONS, student)


def build(target: Path, release: Path | None = None) -> list[Path]:
    return write_class(target, release or RELEASE, spec, STUDENTS, CORRECT)


def main(argv=None) -> int:
    return run(argv, CLASS_DIR, build, STUDENTS, "python -m examples.vector_build")


if __name__ == "__main__":
    sys.exit(main())
