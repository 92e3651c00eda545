"""Tests of the runners (nbgrader, the student kit), and what they share."""
import pytest


def score_differences(scores: dict, rows: dict, grade_cells) -> list[tuple]:
    """(student, cell id, nbgrader's points, msegrad grade's) wherever the gradebook's scores
    ({student: {cell id: points}}) and the CSV's rows ({student: row}) differ."""
    return [(student, cell.id, scores[student][cell.id], rows[student][cell.id])
            for student in rows for cell in grade_cells
            if scores[student][cell.id] != pytest.approx(float(rows[student][cell.id]))]
