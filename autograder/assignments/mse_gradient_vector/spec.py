"""Assignment 2's grade cells: the vector form's gradients, mini-batch SGD and the stable learning rate."""
from __future__ import annotations

from autograder.spec import GradeCell, configured

ASSIGNMENT = "mse-gradient-vector"
NOTEBOOK = "mse_gradient_vector.ipynb"
FUNCTIONS = ("grad_w", "grad_b", "minibatch_sgd", "max_stable_lr")
GRADIENT_FUNCTIONS = ("grad_w", "grad_b")
STAND_INS = {"minibatch_sgd": ("grad_w", "grad_b")}
DATA_MODULE = "autograder.assignments.mse_gradient_vector.data"
NAMES = {"grad_w": "grad_w", "grad_b": "grad_b", "minibatch_sgd": "minibatch_sgd", "max_stable_lr": "max_stable_lr"}

GRADE_CELLS = (
    GradeCell("grad_w_lecture_data", "grad_w", 1, True, "grad_w equals autograd on the lecture's data as d = 1."),
    GradeCell("grad_w_matches_autograd", "grad_w", 3, False, "grad_w equals autograd on random (n, d) data."),
    GradeCell("grad_b_lecture_data", "grad_b", 1, True, "grad_b equals autograd on the lecture's data as d = 1."),
    GradeCell("grad_b_matches_autograd", "grad_b", 2, False, "grad_b equals autograd on random (n, d) data."),
    GradeCell("minibatch_sgd_full_batch", "minibatch_sgd", 2, True,
              "minibatch_sgd with batch_size = n is gradient descent on the lecture's data."),
    GradeCell("minibatch_sgd_path", "minibatch_sgd", 3, False,
              "minibatch_sgd follows the reference's mini-batch path, batch for batch."),
    GradeCell("max_stable_lr_lecture_data", "max_stable_lr", 1, True, "max_stable_lr on the lecture's data."),
    GradeCell("max_stable_lr_random", "max_stable_lr", 1, False, "max_stable_lr on random data."),
)
GRADE_CELLS = configured(ASSIGNMENT, GRADE_CELLS)
CELLS_BY_ID = {cell.id: cell for cell in GRADE_CELLS}
MAX_SCORE = float(sum(cell.points for cell in GRADE_CELLS))


def cells_for(function: str) -> tuple[GradeCell, ...]:
    if function not in FUNCTIONS:
        raise KeyError(f"unknown function {function!r}; expected one of {', '.join(FUNCTIONS)}")
    return tuple(cell for cell in GRADE_CELLS if cell.function == function)
