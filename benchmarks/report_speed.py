"""How long `msegrad report` takes on a large class.

    .venv/bin/python benchmarks/report_speed.py [--students 10000] [--repeat 3]

Writes a made-up class (autograder.report.synthetic_grades: msegrad grade's
columns plus mistakes and seconds) to a temporary folder, then times reading
it, the statistics, the plots and the page separately, in this process and
after a warm-up run (so importing matplotlib and the mistake catalogue is
counted once, apart). The goal: 10,000 students in a few seconds.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    from autograder import report
    import matplotlib.figure  # noqa: F401
    imports = time.perf_counter() - started

    with tempfile.TemporaryDirectory(prefix="msegrad-report-") as folder:
        folder = Path(folder)
        started = time.perf_counter()
        csv_path = report.synthetic_grades(folder / "grades.csv", args.students, seed=1)
        generate = time.perf_counter() - started
        report.catalogue_sentences()        # imports torch once, through the catalogue
        report.write_report(csv_path, folder / "warm-up")
        print(f"{args.students:,} students, {csv_path.stat().st_size / 1e6:.1f} MB CSV "
              f"(made in {generate:.2f} s; imports {imports:.2f} s)")
        print(f"{'run':>4} {'read s':>8} {'stats s':>8} {'write s':>8} {'total s':>8}")
        totals = []
        for run in range(1, args.repeat + 1):
            t0 = time.perf_counter()
            built = report.build_report(csv_path)
            t1 = time.perf_counter()
            built.summary()
            built.mistake_counts(), built.check_rates(), built.slowest(), built.flagged()
            t2 = time.perf_counter()
            report.write(built, folder / f"out-{run}")
            t3 = time.perf_counter()
            totals.append(t3 - t0)
            print(f"{run:>4} {t1 - t0:>8.3f} {t2 - t1:>8.3f} {t3 - t2:>8.3f} {t3 - t0:>8.3f}")
        print(f"best {min(totals):.2f} s, median {sorted(totals)[len(totals) // 2]:.2f} s per report")
        print(built.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
