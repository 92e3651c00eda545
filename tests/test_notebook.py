"""Reading submissions: what is run, and a clear error for what cannot be."""
import json

import pytest

from autograder import course, spec
from autograder.notebook import NotebookError, answer_code


def test_answer_code_skips_test_cells_and_keeps_setup():
    code = answer_code(course.release_path(course.ROOT))
    assert "import torch" in code
    assert "def sgd(" in code
    assert "check(" not in code


@pytest.mark.parametrize("content, flag", [
    (b"{not json", "not-json"),
    (b"\xff\xfe\x00binary", "not-json"),
    (b'{"some": "json"}', "not-notebook"),
    (b'[1, 2, 3]', "not-notebook"),
])
def test_broken_files_raise_with_a_flag(tmp_path, content, flag):
    path = tmp_path / "mse_gradient.ipynb"
    path.write_bytes(content)
    with pytest.raises(NotebookError) as error:
        answer_code(path)
    assert error.value.flag == flag
    assert path.name in error.value.message


def test_notebook_without_answer_cells(tmp_path):
    path = tmp_path / "mse_gradient.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": "x = 1", "metadata": {},
                                           "outputs": [], "execution_count": None}],
                                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    with pytest.raises(NotebookError) as error:
        answer_code(path)
    assert error.value.flag == "no-answers"


def test_missing_file(tmp_path):
    with pytest.raises(NotebookError) as error:
        answer_code(tmp_path / "absent.ipynb")
    assert error.value.flag == "unreadable"


def test_magics_do_not_break_the_code(tmp_path):
    import nbformat

    notebook = nbformat.read(course.release_path(course.ROOT), as_version=4)
    notebook.cells[1].source = "%matplotlib inline\n!pip list\n" + notebook.cells[1].source
    path = tmp_path / spec.NOTEBOOK
    nbformat.write(notebook, path)
    compile(answer_code(path), "x", "exec")
