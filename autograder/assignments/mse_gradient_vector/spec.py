"""Assignment 2's test specification: every graded check, its points and who can see it.

The same shape as assignment 1's (``autograder.spec``): cell ids begin with
the function they grade. The points below are the defaults; course.toml's
[points.mse-gradient-vector] sets them.
Copied into the sandbox with ``data`` and ``probes``: no answers here.
"""
from __future__ import annotations

from autograder.spec import GradeCell, cells_of, configured

ASSIGNMENT = "mse-gradient-vector"
NOTEBOOK = "mse_gradient_vector.ipynb"
FUNCTIONS = ("grad_w", "grad_b", "minibatch_sgd", "max_stable_lr")
# Autograd is forbidden in these (decided from the source on the trusted side, and seen at run time).
GRADIENT_FUNCTIONS = ("grad_w", "grad_b")
# While minibatch_sgd runs, stand-ins replace the student's grad_w and grad_b (no double penalty).
STAND_INS = {"minibatch_sgd": ("grad_w", "grad_b")}
# The one module of this unit the notebook may import.
DATA_MODULE = "autograder.assignments.mse_gradient_vector.data"
NAMES = {"grad_w": "grad_w", "grad_b": "grad_b", "minibatch_sgd": "minibatch_sgd", "max_stable_lr": "max_stable_lr"}

GRADE_CELLS = (
    GradeCell("grad_w_lecture_data", "grad_w", 1, True,
              "grad_w equals autograd on the lecture's eight points as d = 1 (w of shape (1,) and (1, 1)), "
              "and on the diabetes data's first ten patients (n = d = 10)."),
    GradeCell("grad_w_matches_autograd", "grad_w", 2, False,
              "grad_w equals autograd on random data with d from 1 to 50, X as float32 and float64, "
              "w of shape (d,) and (d, 1), and on rows of the diabetes data."),
    GradeCell("grad_b_lecture_data", "grad_b", 1, True,
              "grad_b equals autograd on the lecture's eight points as d = 1 (w of shape (1,) and (1, 1)), "
              "and on the diabetes data's first ten patients."),
    GradeCell("grad_b_matches_autograd", "grad_b", 2, False,
              "grad_b equals autograd on random data with d from 1 to 50, X as float32 and float64, "
              "w of shape (d,) and (d, 1), and on rows of the diabetes data."),
    GradeCell("minibatch_sgd_lecture_run", "minibatch_sgd", 2, True,
              "minibatch_sgd with batch_size = n reproduces the lecture's first step and its converged line "
              "(lr 0.01, 1001 epochs), and follows the reference on the lecture's data in batches of 3."),
    GradeCell("minibatch_sgd_full_batch", "minibatch_sgd", 1, False,
              "With batch_size >= n, minibatch_sgd is plain gradient descent on random data (epochs 0, 1, 5)."),
    GradeCell("minibatch_sgd_follows_reference", "minibatch_sgd", 2, False,
              "minibatch_sgd follows the reference path (one generator seeded once, one randperm per epoch) "
              "on random and diabetes data, with batch sizes that do and do not divide n, several seeds and epochs."),
    GradeCell("max_stable_lr_lecture_data", "max_stable_lr", 1, True,
              "max_stable_lr gives 2 / lambda_max of the Hessian on the lecture's eight points and on the "
              "diabetes data's first twenty patients."),
    GradeCell("max_stable_lr_matches_reference", "max_stable_lr", 1, False,
              "max_stable_lr gives 2 / lambda_max of the Hessian on random data with d from 1 to 50 "
              "and on the whole diabetes data."),
)
GRADE_CELLS = configured(ASSIGNMENT, GRADE_CELLS)
CELLS_BY_ID = {cell.id: cell for cell in GRADE_CELLS}
MAX_SCORE = float(sum(cell.points for cell in GRADE_CELLS))


def cells_for(function: str) -> tuple[GradeCell, ...]:
    """The grade cells of one student function, in notebook order."""
    return cells_of(GRADE_CELLS, FUNCTIONS, function)
