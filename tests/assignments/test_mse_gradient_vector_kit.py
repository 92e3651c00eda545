"""Assignment 2's student kit (the unit's kit.py): the same points, mistakes and words as the full judge
on the visible cells, from autograd alone.

Each sample student's answers run through both in this process: the kit's
``run_check`` on a namespace, and the unit's probes and judge (as
tests/assignments/test_mse_gradient_vector.py grades them).
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from autograder import probes as engine
from autograder.assignments.mse_gradient_vector import cases, judge, kit, mistakes, probes, spec
from examples.vector_submissions import CORRECT, FLOAT32, STUDENTS

from .test_mse_gradient_vector import FLOAT32_SGD, _sgd, namespace

VISIBLE = [cell.id for cell in spec.GRADE_CELLS if cell.visible]
SHORT_CALL = 5.0
# Answers beyond the sample class: float32 throughout, and runs that leave the reference path
# without a catalogued mistake (the order, the batch size, the update).
MORE = {
    "float32": {**FLOAT32, "minibatch_sgd": FLOAT32_SGD},
    "order": {"minibatch_sgd": _sgd("order = torch.randperm(n, generator=generator)",
                                    "order = torch.from_numpy(__import__('numpy').random.default_rng(seed)"
                                    ".permutation(n))")},
    "batch_size": {"minibatch_sgd": _sgd("range(0, n, batch_size)", "range(0, n, batch_size + 1)")
                   .replace("order[start:start + batch_size]", "order[start:start + batch_size + 1]")},
    "update": {"minibatch_sgd": _sgd("w = w - lr * g_w.reshape(w.shape)", "w = w - 0.7 * lr * g_w.reshape(w.shape)")},
    "float_w": {"grad_w": "def grad_w(X, y, w, b):\n    return float((2 * X.T @ (X @ w.reshape(-1) + b - y) / len(y))[0])\n"},
    "no_return": {"max_stable_lr": "def max_stable_lr(X):\n    pass\n"},
}


@pytest.fixture(autouse=True, scope="module")
def short_calls():
    """An endless loop costs one short call limit here, in the judge's engine and in the kit."""
    saved, saved_kit = dict(engine.CALL_SECONDS), kit.CALL_SECONDS
    engine.set_call_seconds(SHORT_CALL)
    kit.CALL_SECONDS = SHORT_CALL
    yield
    engine.CALL_SECONDS.update(saved)
    kit.CALL_SECONDS = saved_kit


def _judged(answers: dict, cell_id: str):
    found = namespace(answers)
    probe = json.loads(json.dumps(probes.probe_cell(found, cell_id, cases.cell_inputs(cell_id, 0))))
    return judge.judge_cell(cell_id, probe, seed=0)


@pytest.mark.parametrize("student", [*STUDENTS, *MORE])
def test_the_kit_gives_the_judge_s_points_mistake_and_words_on_every_visible_cell(student):
    answers = MORE[student] if student in MORE else STUDENTS[student][1]
    for cell_id in VISIBLE:
        full, ours = _judged(answers, cell_id), kit.run_check(cell_id, namespace(answers))
        assert ours.points == full.points, (student, cell_id, full.message, ours.message)
        assert ours.mistake == full.mistake, (student, cell_id, full.message, ours.message)
        assert ours.message == full.message, (student, cell_id)


def test_an_honest_answer_earns_every_visible_point():
    found = namespace(CORRECT)
    results = [kit.run_check(cell_id, found) for cell_id in VISIBLE]
    assert all(r.passed for r in results), [r.message for r in results if not r.passed]
    assert sum(r.points for r in results) == sum(cell.points for cell in spec.GRADE_CELLS if cell.visible)


def test_the_kit_s_cases_are_the_grader_s_visible_cases():
    for cell_id in VISIBLE:
        ours, theirs = kit.cases(spec.CELLS_BY_ID[cell_id].function), cases.cases_for(cell_id, 0)
        assert len(ours) == len(theirs), cell_id
        for mine, grader in zip(ours, theirs):
            for name, value in cases.as_plain(grader).items():
                assert np.array_equal(np.asarray(getattr(mine, name)), np.asarray(value)), (cell_id, name)


def test_the_kit_s_sentences_are_the_catalogue_s():
    gradient = {m.id: m.sentence for m in mistakes.GRADIENT_MISTAKES if m.sentence}
    assert kit.GRADIENT_SENTENCES == gradient
    assert kit.DESCENT_SENTENCES == {**{m.id: m.sentence for m in mistakes.DESCENT_MISTAKES},
                                     mistakes.BROADCAST_SQUARE[0]: mistakes.BROADCAST_SQUARE[1]}
    assert kit.RATE_SENTENCES == {m.id: m.sentence for m in mistakes.RATE_MISTAKES}
    assert kit.KIND_SENTENCES == mistakes.KIND_SENTENCES
    assert kit.SGD_KIND_SENTENCES == mistakes.SGD_KIND_SENTENCES
    assert kit.RATE_KIND_SENTENCES == mistakes.RATE_KIND_SENTENCES
    assert kit.OWN_GRADIENT_SENTENCE == mistakes.OWN_GRADIENT_SENTENCE


def test_the_kit_s_visible_checks_and_bounds_are_the_grader_s():
    from autograder import tolerance
    assert kit.VISIBLE == {cell.id: (cell.function, cell.points, cell.description)
                           for cell in spec.GRADE_CELLS if cell.visible}
    assert kit.HIDDEN_POINTS == spec.MAX_SCORE - sum(cell.points for cell in spec.GRADE_CELLS if cell.visible)
    assert kit.FUNCTIONS == spec.FUNCTIONS and kit.GRADIENT_FUNCTIONS == spec.GRADIENT_FUNCTIONS
    assert kit.STAND_IN_NAMES == spec.STAND_INS["minibatch_sgd"]
    assert (kit.U, kit.TINY) == (judge.U, judge.TINY)
    assert (kit.SAFETY, kit.OPERATIONS_PER_TERM, kit.OPERATIONS_PER_STEP) == (
        tolerance.SAFETY, tolerance.OPERATIONS_PER_TERM, tolerance.OPERATIONS_PER_STEP)
    assert (kit.DESCENT_NAME_REL, kit.DIVERGED) == (judge.DESCENT_NAME_REL, judge.DIVERGED)
    assert kit.CALL_LIMIT == probes.CALL_LIMIT


def test_the_kit_imports_only_the_standard_library_numpy_torch_and_the_unit_s_data():
    path = Path(kit.__file__)
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module if node.module.startswith("autograder") else node.module.split(".")[0])
    import sys
    third_party = {name for name in found if name not in sys.stdlib_module_names}
    assert third_party == {"numpy", "torch", spec.DATA_MODULE}, third_party
