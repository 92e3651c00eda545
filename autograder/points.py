"""Bring the solution notebook's points in line with course.toml.

    python -m autograder.points            # rewrite them, then `make exercises`
    python -m autograder.points --check    # exit 1 and list what differs

Each grade cell's ``points`` metadata (what nbgrader grades out of) and its
comment ("# Visible check (1 point): ...") come from course.toml's [points]
(``autograder.spec``). Run it after changing [points], then regenerate the
release; the release test fails while either is out of date.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

from autograder import spec

SOLUTION = Path(__file__).resolve().parent.parent / "solutions" / spec.ASSIGNMENT / spec.NOTEBOOK
# The first line of every grade cell's comment names the check's points.
COMMENT = re.compile(r"^# (Visible|Hidden) check \((\d+(?:\.\d+)?) points?\)", re.MULTILINE)


def points_text(points: float) -> str:
    """'1 point', '2 points', '1.5 points'."""
    return f"{points:g} point" + ("" if points == 1 else "s")


def sync(notebook: nbformat.NotebookNode) -> list[str]:
    """Set every grade cell's points and comment from spec; returns a line per change."""
    changes = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade") or meta.get("grade_id") not in spec.CELLS_BY_ID:
            continue
        grade = spec.CELLS_BY_ID[meta["grade_id"]]
        if meta.get("points") != grade.points:
            changes.append(f"{grade.id}: points {meta.get('points')} -> {grade.points:g}")
            meta["points"] = grade.points
        source = COMMENT.sub(lambda match: f"# {match.group(1)} check ({points_text(grade.points)})", cell.source)
        if source != cell.source:
            changes.append(f"{grade.id}: comment says {points_text(grade.points)}")
            cell.source = source
    return changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.points", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when the notebook differs")
    parser.add_argument("--notebook", type=Path, default=SOLUTION, help="the solution notebook (default: %(default)s)")
    args = parser.parse_args(argv)
    notebook = nbformat.read(args.notebook, as_version=4)
    changes = sync(notebook)
    for line in changes:
        print(line)
    if args.check:
        if changes:
            print(f"{args.notebook} differs from course.toml: run `python -m autograder.points`", file=sys.stderr)
        return 1 if changes else 0
    if changes:
        args.notebook.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
        print(f"wrote {args.notebook}; now run `make exercises`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
