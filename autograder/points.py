"""Bring the solution notebook's points in line with course.toml.

    python -m autograder.points            # rewrite them, then `make exercises`
    python -m autograder.points --check    # exit 1 and list what differs

Each grade cell's ``points`` metadata (what nbgrader grades out of) and its
comment ("# Visible check (1 point): ...") come from course.toml's [points]
(each assignment's ``spec``), in every assignment's solution notebook. Run it
after changing [points], then regenerate the releases; the release test
fails while either is out of date.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

from autograder import assignments, spec

ROOT = Path(__file__).resolve().parent.parent


def solution_path(unit: assignments.Assignment) -> Path:
    """solutions/<id>/<notebook>: an assignment's nbgrader source notebook."""
    return ROOT / "solutions" / unit.name / unit.spec.NOTEBOOK


SOLUTION = solution_path(assignments.get(spec.ASSIGNMENT))     # assignment 1's
# The first line of every grade cell's comment names the check's points.
COMMENT = re.compile(r"^# (Visible|Hidden) check \((\d+(?:\.\d+)?) points?\)", re.MULTILINE)


def points_text(points: float) -> str:
    """'1 point', '2 points', '1.5 points'."""
    return f"{points:g} point" + ("" if points == 1 else "s")


def sync(notebook: nbformat.NotebookNode, own=spec) -> list[str]:
    """Set every grade cell's points and comment from the assignment's spec; returns a line per change."""
    spec = own
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
    parser.add_argument("--notebook", type=Path, default=None,
                        help="one solution notebook (default: every assignment's, solutions/<id>/<notebook>)")
    args = parser.parse_args(argv)
    if args.notebook is not None:
        targets = [(args.notebook, (assignments.for_notebook(args.notebook) or assignments.get()).spec)]
    else:
        targets = [(solution_path(unit), unit.spec) for unit in assignments.every()]
    status = 0
    for path, own in targets:
        notebook = nbformat.read(path, as_version=4)
        changes = sync(notebook, own)
        for line in changes:
            print(line)
        if args.check:
            if changes:
                print(f"{path} differs from course.toml: run `python -m autograder.points`", file=sys.stderr)
                status = 1
            continue
        if changes:
            path.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
            print(f"wrote {path}; now run `make exercises`")
    return status


if __name__ == "__main__":
    sys.exit(main())
