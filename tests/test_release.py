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
