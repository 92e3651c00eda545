"""Per-notebook cost of grading each assignment with `msegrad grade`, side by side in one run.

    .venv/bin/python benchmarks/assignment_cost.py [--copies 2] [--jobs 1]

Grades every assignment's sample class (examples/*/<student>/<id>/, the
endless loops left out: they spend a time limit, not grading work) --copies
times over, one assignment after the other with the same settings, and
prints seconds per notebook (whole run and steady, after the first row) and
each assignment's cost relative to the first's.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import assignments, batch  # noqa: E402

ENDLESS = {"mse-gradient": ("shafi",), "mse-gradient-vector": ("konrad",)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)
    rates = {}
    with tempfile.TemporaryDirectory(prefix="msegrad-cost-") as scratch:
        for unit in assignments.every():
            folder = Path(scratch) / unit.name
            sources = [path for path in sorted((ROOT / "examples").glob(f"*/*/{unit.name}/{unit.spec.NOTEBOOK}"))
                       if path.parts[-3] not in ENDLESS.get(unit.name, ())]
            for copy in range(args.copies):
                for source in sources:
                    target = folder / f"{source.parts[-3]}{copy or ''}" / unit.name / unit.spec.NOTEBOOK
                    target.parent.mkdir(parents=True)
                    shutil.copy(source, target)
            summary = batch.grade_paths([folder], Path(scratch) / f"{unit.name}.csv", jobs=args.jobs,
                                        force=True, progress=False, quiet=True, assignment=unit)
            rates[unit.name] = (summary.seconds_per_notebook, summary.steady_seconds_per_notebook, summary.graded)
            print(f"{unit.name:<22} {summary.graded:>4} notebooks  {summary.seconds_per_notebook:.3f} s each, "
                  f"steady {summary.steady_seconds_per_notebook:.3f} s", flush=True)
    first = next(iter(rates.values()))
    for name, (whole, steady, _) in rates.items():
        print(f"{name:<22} cost / first assignment's: {whole / first[0]:.2f}x whole run, {steady / first[1]:.2f}x steady")
    return 0


if __name__ == "__main__":
    sys.exit(main())
