"""``msegrad check NOTEBOOK``: the visible checks, outside Jupyter, for students.

Runs the notebook's code (not its test cells) in this process, then each
visible check, and prints one line per check: what passed, or the mistake.
Exit status 0 when every check run passed, 1 otherwise, 2 for a notebook
that cannot be read.
"""
from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

from autograder import assignments, config
from autograder.notebook import NotebookError, answer_cells

# Each code cell of the notebook; course.toml's limits.top_level_seconds, the grader's bound on all of them.
TOP_LEVEL_SECONDS = config.get("limits", "top_level_seconds")


def add_parser(subparsers):
    parser = subparsers.add_parser("check", help="check a notebook with the visible checks, outside Jupyter",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path, help="your notebook, e.g. mse_gradient.ipynb")
    parser.add_argument("--assignment", metavar="ID",
                        help="the assignment it answers (default: told from its file or folder name)")
    parser.add_argument("--all", action="store_true",
                        help="also run the hidden checks (for instructors; students see them after grading)")
    parser.add_argument("--verbose", "-v", action="store_true", help="show every case of every check")
    return parser


def _run_notebook_code(cells: list[str], name: str) -> tuple[dict, list[str]]:
    """Execute the student's cells one by one, as a kernel does; returns the namespace and
    a line for each cell that raised."""
    from autograder.probes import CheckTimeout, _time_limit

    namespace: dict = {"__name__": "__main__"}
    os.environ.setdefault("MPLBACKEND", "Agg")
    problems = []
    for index, source in enumerate(cells, 1):
        cell_name = f"{name} (code cell {index})"
        try:
            compiled = compile(source, cell_name, "exec")
            with _time_limit(TOP_LEVEL_SECONDS):
                exec(compiled, namespace)
        except CheckTimeout:
            problems.append(f"code cell {index} did not finish within {TOP_LEVEL_SECONDS} s")
        except SyntaxError as error:
            problems.append(f"SyntaxError in code cell {index}: {error.msg} "
                            f"(line {error.lineno}: {(error.text or '').strip()})")
        except BaseException as error:  # the student's code may raise anything, SystemExit included
            frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == cell_name]
            where = f" (line {frames[-1].lineno}: {frames[-1].line})" if frames else ""
            problems.append(f"code cell {index} raised {type(error).__name__}: {error}{where}")
    return namespace, problems


def run(args) -> int:
    from autograder.checks import format_result, run_check

    try:
        unit = assignments.get(args.assignment) if args.assignment else \
            (assignments.for_notebook(args.notebook) or assignments.get())
    except assignments.UnknownAssignment as error:
        print(f"msegrad check: {error}", file=sys.stderr)
        return 2
    spec = unit.spec
    try:
        cells = answer_cells(args.notebook)
    except NotebookError as error:
        print(f"msegrad check: {error.message}", file=sys.stderr)
        return 2
    namespace, problems = _run_notebook_code(cells, str(args.notebook))
    for problem in problems:
        print(f"note: {problem}")
    cells = [cell for cell in spec.GRADE_CELLS if cell.visible or args.all]
    earned = possible = 0.0
    for cell in cells:
        result = run_check(cell.id, namespace)
        earned += result.points
        possible += result.max_points
        print(format_result(result))
        if args.verbose:
            for line in result.details:
                print(f"        {line}")
    kind = "all checks" if args.all else "the visible checks"
    print(f"{earned:g}/{possible:g} points on {kind}"
          + ("" if args.all else f"; hidden checks ({spec.MAX_SCORE - possible:g} more points) run when graded."))
    return 0 if earned >= possible else 1
