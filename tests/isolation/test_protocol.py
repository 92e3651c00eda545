"""What comes back from the sandbox: only what the probe can produce survives, and nothing makes it raise."""
from __future__ import annotations

import json
import math
import random

from autograder import cases, probes, spec
from autograder.isolation import protocol
from autograder.reference import dC_db, dC_dm, dC_dyhat

COUNTS = {cell.id: len(cases.cell_inputs(cell.id)) for cell in spec.GRADE_CELLS}


def _real_probe(function: str) -> dict:
    namespace = {"dC_dyhat": dC_dyhat, "dC_dm": dC_dm, "dC_db": dC_db,
                 "sgd": lambda x, y, m, b, lr=0.01, epochs=1000: (m, b)}
    return json.loads(json.dumps(probes.probe_function(namespace, function, cases.function_inputs(function))))


def test_a_real_probe_passes_unchanged_in_substance():
    for function in spec.FUNCTIONS:
        probe = _real_probe(function)
        clean = protocol.clean_probe(function, probe, COUNTS)
        assert set(clean) == set(probe)
        for cell_id in probe:
            assert len(clean[cell_id].get("cases", [])) == len(probe[cell_id].get("cases", []))


def test_forged_results_are_refused_and_that_function_flagged():
    answer = {"functions": {
        "dC_dyhat": {"probe": {}},                                                  # no cells at all
        "dC_dm": {"probe": {"dC_dm_lecture_data": {"cases": [{"output": {"type": "x", "values": [1e400]}}]},
                            "dC_dm_matches_autograd": {"cases": []}}},               # inf from 1e400 is a float
        "dC_db": {"probe": {"dC_db_lecture_data": {"cases": [{"pair": [10 ** 400, 1]}]},
                            "dC_db_matches_autograd": {"cases": []}}},               # not a float at all
        "sgd": {"probe": {cell.id: {"cases": [{}] * 100} for cell in spec.cells_for("sgd")}},   # too many
    }, "seconds": {"dC_dm": 10 ** 400, "dC_db": float("nan"), "sgd": -5}}
    clean, refused = protocol.clean_answer(answer, COUNTS)
    assert refused == ["dC_dyhat", "dC_db", "sgd"]
    assert all(0.0 <= value < 1e6 for value in clean["seconds"].values())
    assert "probe" in clean["functions"]["dC_dm"]


def _random_json(rng: random.Random, depth: int = 0):
    kind = rng.randrange(9 if depth < 6 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 2 ** 70, 10 ** 400, 3])
    if kind == 3:
        return rng.choice([0.5, math.nan, math.inf, -math.inf, 1e308])
    if kind == 4:
        return rng.choice(["", "x" * 10_000, "cases", "probe", "failure", "timeout"])
    if kind == 5:
        return rng.choice(list(spec.FUNCTIONS) + [cell.id for cell in spec.GRADE_CELLS])
    if kind == 6:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["top", "functions", "probe", "cases", "output", "values", "pair", "seconds", "failure", "errors",
            "tamper", "cells", "gradient_points", "gradient_calls", "shape", "type", *spec.FUNCTIONS,
            *(cell.id for cell in spec.GRADE_CELLS)]
    return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randrange(5))}


def test_no_answer_whatever_its_shape_makes_it_raise():
    rng = random.Random(20261203)
    for _ in range(3000):
        clean, refused = protocol.clean_answer(_random_json(rng), COUNTS)
        json.dumps(clean)                       # plain data out
        assert set(refused) <= set(spec.FUNCTIONS)
        assert all(math.isfinite(value) for value in clean["seconds"].values())
