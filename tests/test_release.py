"""The committed student release and sample class are what nbgrader and the builder make now."""
import json

import nbformat

from autograder import course, spec
from autograder.notation import EQUATIONS
from examples import build


def _cells(path):
    notebook = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, json.dumps(c.metadata.get("nbgrader", {}), sort_keys=True))
            for c in notebook.cells]


def test_exercises_are_in_sync_with_solutions(tmp_path):
    course_dir = course.make_course(tmp_path / "course")
    fresh = course.generate_release(course_dir)
    assert _cells(fresh) == _cells(course.release_path(course.ROOT)), \
        "exercises/ is out of date: run `make exercises` and commit it"


def test_sample_class_is_in_sync():
    assert build.main(["--check"]) == 0, "examples/class/ is out of date: run `python -m examples.build`"


def test_release_has_stubs_and_no_solutions_or_hidden_tests():
    text = course.release_path(course.ROOT).read_text()
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    assert text.count("raise NotImplementedError()") == len(spec.FUNCTIONS)


def test_grade_cells_follow_the_specification():
    notebook = nbformat.read(course.ROOT / "solutions" / spec.ASSIGNMENT / spec.NOTEBOOK, as_version=4)
    grades = {c.metadata.nbgrader.grade_id: c for c in notebook.cells
              if c.metadata.get("nbgrader", {}).get("grade")}
    assert list(grades) == [cell.id for cell in spec.GRADE_CELLS]
    for cell in spec.GRADE_CELLS:
        source = grades[cell.id].source
        assert cell.id.startswith(cell.function)
        assert grades[cell.id].metadata.nbgrader.points == cell.points
        assert f'check("{cell.id}")' in source
        assert ("BEGIN HIDDEN TESTS" not in source) == cell.visible
    answers = [c.metadata.nbgrader.grade_id for c in notebook.cells
               if c.metadata.get("nbgrader", {}).get("solution")]
    assert answers == [f"{function}_answer" for function in spec.FUNCTIONS]


def test_notebook_math_uses_the_notation_table():
    notebook = nbformat.read(course.ROOT / "solutions" / spec.ASSIGNMENT / spec.NOTEBOOK, as_version=4)
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    for name in ("model", "cost", "u", "dC_du", "du_dyhat", "dC_dyhat", "dyhat_dm", "dC_dm", "dyhat_db", "dC_db"):
        assert EQUATIONS[name] in markdown, name


def test_solution_points_follow_course_toml():
    from autograder import points
    assert points.main(["--check"]) == 0, "run `python -m autograder.points`, then `make exercises`"
    notebook = nbformat.read(points.SOLUTION, as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in spec.CELLS_BY_ID and cell.metadata.nbgrader.get("grade"):
            kind = "Visible" if spec.CELLS_BY_ID[grade_id].visible else "Hidden"
            assert f"# {kind} check ({points.points_text(spec.CELLS_BY_ID[grade_id].points)})" in cell.source


def test_the_points_command_rewrites_the_notebook_from_the_config(tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    from autograder import points
    copy = tmp_path / spec.NOTEBOOK
    shutil.copyfile(points.SOLUTION, copy)
    config = tmp_path / "course.toml"
    config.write_text("[points]\nsgd_converges = 5\ndC_dm_lecture_data = 1.5\n")
    env = dict(os.environ, MSEGRAD_CONFIG=str(config))
    command = [sys.executable, "-m", "autograder.points", "--notebook", str(copy)]
    assert subprocess.run(command + ["--check"], env=env, capture_output=True).returncode == 1
    assert subprocess.run(command, env=env, capture_output=True).returncode == 0
    assert subprocess.run(command + ["--check"], env=env, capture_output=True).returncode == 0
    cells = {c.metadata.nbgrader.grade_id: c for c in nbformat.read(copy, as_version=4).cells
             if c.metadata.get("nbgrader", {}).get("grade")}
    assert cells["sgd_converges"].metadata.nbgrader.points == 5
    assert "# Hidden check (5 points)" in cells["sgd_converges"].source
    assert cells["dC_dm_lecture_data"].metadata.nbgrader.points == 1.5
    assert "# Visible check (1.5 points)" in cells["dC_dm_lecture_data"].source
    assert cells["sgd_lecture_run"].metadata.nbgrader.points == 2
