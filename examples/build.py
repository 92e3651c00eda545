"""Writes the sample class from the released notebook and examples/submissions.py.

    python -m examples.build            # rewrite examples/class/
    python -m examples.build --check    # exit 1 when examples/class/ is out of date

Each student folder follows nbgrader's layout:
examples/class/<student>/mse-gradient/mse_gradient.ipynb
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

from autograder import course, spec
from examples.submissions import CORRECT, STUDENTS

CLASS_DIR = Path(__file__).resolve().parent / "class"


def class_answers(students: dict, correct: dict, functions, student: str) -> dict[str, str | None]:
    """A sample student's answers, the correct one where the sample does not differ (None keeps the stub)."""
    answers = students[student][1]
    return {function: answers.get(function, correct[function]) for function in functions}


def answers_for(student: str) -> dict[str, str | None]:
    """The student's answers, the correct one where the sample does not differ."""
    return class_answers(STUDENTS, CORRECT, spec.FUNCTIONS, student)


def write_class(target: Path, release: Path, own, students: dict, correct: dict) -> list[Path]:
    """Every sample student's notebook, <target>/<student>/<id>/<notebook>, from the release."""
    written = []
    for student in students:
        path = target / student / own.ASSIGNMENT / own.NOTEBOOK
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(course.fill_answers(release, class_answers(students, correct, own.FUNCTIONS, student)), path)
        written.append(path)
    return written


def build(target: Path, release: Path | None = None) -> list[Path]:
    return write_class(target, release or course.release_path(course.ROOT), spec, STUDENTS, CORRECT)


def run(argv, class_dir: Path, build_class, students: dict, command: str) -> int:
    """The command line of a sample class's builder: write it, or (--check) say whether it is up to date."""
    parser = argparse.ArgumentParser(prog=command, description=f"Write {class_dir.relative_to(course.ROOT)}/ "
                                                                "from the release and the sample answers.")
    parser.add_argument("--check", action="store_true", help="compare with the written class instead of writing")
    args = parser.parse_args(argv)
    if not args.check:
        shutil.rmtree(class_dir, ignore_errors=True)
        for path in build_class(class_dir):
            print(path.relative_to(course.ROOT))
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        fresh = build_class(Path(scratch))
        stale = [p for p in fresh if not (class_dir / p.relative_to(scratch)).exists()
                 or (class_dir / p.relative_to(scratch)).read_text() != p.read_text()]
    extra = {p.name for p in class_dir.iterdir()} - set(students) if class_dir.exists() else set()
    if stale or extra:
        print(f"{class_dir.relative_to(course.ROOT)}/ is out of date; run `{command}`", file=sys.stderr)
        return 1
    return 0


def main(argv=None) -> int:
    return run(argv, CLASS_DIR, build, STUDENTS, "python -m examples.build")


if __name__ == "__main__":
    sys.exit(main())
