"""The test specification: every graded check, its points and who can see it.

One specification, run two ways: inside the student's kernel by nbgrader's
test cells (``autograder.checks.check``) and out of process by
``msegrad grade`` (``autograder.probes`` in the sandbox, ``autograder.judge``
in the grader). Cell ids begin with the function they grade.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from autograder import config

FUNCTIONS = ("dC_dyhat", "dC_dm", "dC_db", "sgd")
ASSIGNMENT = "mse-gradient"
NOTEBOOK = "mse_gradient.ipynb"
# Autograd is forbidden in these; sgd runs with stand-ins for dC_dm and dC_db (docs/assignments.md).
GRADIENT_FUNCTIONS = ("dC_dyhat", "dC_dm", "dC_db")
STAND_INS = {"sgd": ("dC_dm", "dC_db")}
DATA_MODULE = "autograder.data"
NAMES = {"dC_dyhat": "dC/dy_hat", "dC_dm": "dC/dm", "dC_db": "dC/db", "sgd": "sgd"}


@dataclass(frozen=True)
class GradeCell:
    id: str
    function: str
    points: float
    visible: bool
    description: str


GRADE_CELLS = (
    GradeCell("dC_dyhat_lecture_data", "dC_dyhat", 1, True,
              "dC/dy_hat equals autograd on the lecture's eight points."),
    GradeCell("dC_dyhat_matches_autograd", "dC_dyhat", 2, False,
              "dC/dy_hat equals autograd on random data of many sizes, scales and dtypes."),
    GradeCell("dC_dm_lecture_data", "dC_dm", 1, True,
              "dC/dm equals autograd on the lecture's data at m = 0.9, b = 0.1, and on its first four points."),
    GradeCell("dC_dm_matches_autograd", "dC_dm", 2, False,
              "dC/dm equals autograd on random data, with m and b as floats, 0-d and shape-[1] tensors."),
    GradeCell("dC_db_lecture_data", "dC_db", 1, True,
              "dC/db equals autograd on the lecture's data at m = 0.9, b = 0.1, and on its first four points."),
    GradeCell("dC_db_matches_autograd", "dC_db", 2, False,
              "dC/db equals autograd on random data, with m and b as floats, 0-d and shape-[1] tensors."),
    GradeCell("sgd_lecture_run", "sgd", 2, True,
              "sgd reproduces the lecture's first step and its converged line (lr 0.01, 1001 steps), "
              "and one step at lr 0.02 on the lecture's first four points."),
    GradeCell("sgd_first_steps", "sgd", 2, False,
              "sgd follows the reference path step for step on random data (epochs = 0, 1, 2, 3)."),
    GradeCell("sgd_cost_decreases", "sgd", 1, False,
              "Each epoch is one gradient-descent step from where the last ended, and the cost falls at every epoch."),
    GradeCell("sgd_converges", "sgd", 2, False,
              "sgd reaches the expected parameters on other data, learning rates and epoch counts."),
)



def configured(assignment: str, cells):
    """The cells with course.toml's points: [points] for the course's first assignment, [points.<id>] for others.

    A name there that is no grade cell of the assignment is an error.
    """
    from autograder import assignments
    table = config.settings()["points"]
    first = assignments.every()[0].name == assignment
    points = {key: value for key, value in table.items() if not isinstance(value, dict)} if first else {}
    points.update(table.get(assignment) or {})
    known = {cell.id for cell in cells}
    for name in points:
        if name not in known:
            where = "points" if first and name in table else f"points.{assignment}"
            raise config.ConfigError(f"{config.path()}: {where}.{name} is not a grade cell of {assignment}; "
                                     f"expected one of {', '.join(sorted(known))}")
    return tuple(replace(cell, points=points.get(cell.id, cell.points)) for cell in cells)


# The points above are the defaults; course.toml's [points] sets them.
GRADE_CELLS = configured(ASSIGNMENT, GRADE_CELLS)
CELLS_BY_ID = {cell.id: cell for cell in GRADE_CELLS}
MAX_SCORE = float(sum(cell.points for cell in GRADE_CELLS))


def cells_of(cells, functions, function: str) -> tuple[GradeCell, ...]:
    """The grade cells (of any assignment's `cells`) of one of its `functions`, in notebook order."""
    if function not in functions:
        raise KeyError(f"unknown function {function!r}; expected one of {', '.join(functions)}")
    return tuple(cell for cell in cells if cell.function == function)


def cells_for(function: str) -> tuple[GradeCell, ...]:
    """The grade cells of one student function, in notebook order."""
    return cells_of(GRADE_CELLS, FUNCTIONS, function)
