"""What the isolation itself costs per submission: an empty notebook through the whole path.

    .venv/bin/python benchmarks/isolation_cost.py [--repeat 40]

Times, in one run and on one warm sandbox, a submission whose only cell is
``pass`` and that has no function to probe: the fork from the zygote, the
submission's own namespaces and tmpfs, its PID 1, the process that runs the
cell with its capabilities dropped and its seccomp filter, the cgroup made,
entered, read and removed, and the answer checked. Also the parts on the
grader's side alone: reading the source (autograder.source) of a sample
notebook and checking a real answer (autograder.isolation.protocol).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import batch, notebook, sandbox, spec  # noqa: E402
from autograder.isolation import cgroups, protocol  # noqa: E402


def _median_ms(samples) -> str:
    return f"{statistics.median(samples) * 1000:7.2f} ms"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args(argv)
    mode = sandbox.choose_mode()
    print(f"sandbox {mode.name}{': ' + mode.reason if mode.reason else ''}")
    limits = batch.Limits()
    empty = batch.request_for("x", ["pass\n"], 1, limits) | {"functions": []}
    with sandbox.Sandbox(mode, sandbox.Options(hide=[str(ROOT)])) as box:
        print(f"cgroups: {'yes' if box.cgroups else 'no (' + box.cgroup_reason + ')'}")
        box.request(empty, 60)
        samples = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            answer = box.request(empty, 60)
            samples.append(time.perf_counter() - started)
        print(f"an empty submission, whole path     : {_median_ms(samples)}  (median of {args.repeat}; "
              f"isolation {answer.get('isolation')})")
    made, reason = cgroups.open_cgroups("msegrad-bench-cost")
    if made is not None:
        samples = []
        try:
            for _ in range(args.repeat):
                started = time.perf_counter()
                slot = made.slot(1 << 30, 32)
                slot.events()
                made.release(slot)
                samples.append(time.perf_counter() - started)
        finally:
            made.close()
        print(f"  of which a cgroup made and removed: {_median_ms(samples)}")
    cells = notebook.answer_cells(ROOT / "examples" / "class" / "ada" / spec.ASSIGNMENT / spec.NOTEBOOK)
    samples = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        batch.analyse_source(cells)
        samples.append(time.perf_counter() - started)
    print(f"reading a sample notebook's source  : {_median_ms(samples)}")
    with sandbox.Sandbox(mode, sandbox.Options(hide=[str(ROOT)])) as box:
        full = box.request(batch.request_for("x", cells, 1, limits), 120)
    counts = batch._case_counts(1)
    samples = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        protocol.clean_answer(full, counts)
        samples.append(time.perf_counter() - started)
    print(f"checking a real answer              : {_median_ms(samples)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
