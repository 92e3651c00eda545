"""The command line finds the assignment from nbgrader's layout or --assignment, and says so when it cannot."""
from __future__ import annotations

from pathlib import Path

from autograder import assignments
from autograder.cli import main

ROOT = Path(__file__).resolve().parents[1]
VECTOR = assignments.get("mse-gradient-vector")
EMMY = ROOT / "examples" / "vector_class" / "emmy" / VECTOR.name / VECTOR.spec.NOTEBOOK
TOMAS = ROOT / "examples" / "vector_class" / "tomas" / VECTOR.name / VECTOR.spec.NOTEBOOK


def test_paths_of_two_assignments_at_once_are_refused(tmp_path, capsys):
    code = main(["grade", str(ROOT / "examples" / "class"), str(ROOT / "examples" / "vector_class"),
                 "--csv", str(tmp_path / "g.csv")])
    assert code == 2
    assert "several assignments (mse-gradient, mse-gradient-vector)" in capsys.readouterr().err
    assert not (tmp_path / "g.csv").exists()


def test_an_unknown_assignment_is_named_with_the_courses(tmp_path, capsys):
    assert main(["grade", str(EMMY), "--csv", str(tmp_path / "g.csv"), "--assignment", "nope"]) == 2
    error = capsys.readouterr().err
    assert "no assignment 'nope'" in error and "mse-gradient, mse-gradient-vector" in error


def test_the_assignment_is_told_from_nbgraders_layout():
    assert assignments.detect([ROOT / "examples" / "vector_class"]) == VECTOR
    assert assignments.detect([EMMY]) == VECTOR
    assert assignments.detect([ROOT / "examples" / "class" / "ada"]).name == "mse-gradient"


def test_msegrad_check_runs_the_second_assignments_visible_checks(capsys):
    assert main(["check", str(EMMY)]) == 0
    out = capsys.readouterr().out
    visible = [cell.id for cell in VECTOR.spec.GRADE_CELLS if cell.visible]
    assert all(f"[PASS] {cell_id}" in out for cell_id in visible), out
    assert main(["check", str(TOMAS)]) == 1
    out = capsys.readouterr().out
    assert "[FAIL] grad_w_lecture_data" in out and "2" in out
