"""The grader's own memory against class size: its peak RSS grading 10, 100 and 400 notebooks.

    .venv/bin/python benchmarks/grade_memory.py [--sizes 10 100 400] [--jobs 2]

Each size is graded by a fresh `msegrad grade` process (copies of the sample
class, honest answers and mistakes); the number printed is that process's
own peak resident memory (ru_maxrss): the sandboxes are other processes,
capped per submission. Rows are written as they finish and judged answers
are not kept, so the peak should not grow with the class.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLASS = ROOT / "examples" / "class"
MEASURE = ("import resource, sys\n"
           "from autograder.cli import main\n"
           "status = main(sys.argv[1:])\n"
           "print('peak-kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
           "sys.exit(status)\n")


def make_class(target: Path, size: int) -> None:
    samples = sorted(path.name for path in CLASS.iterdir() if path.is_dir())
    for index in range(size):
        sample = samples[index % len(samples)]
        destination = target / f"{sample}-{index}" / "mse-gradient"
        destination.mkdir(parents=True)
        shutil.copy2(CLASS / sample / "mse-gradient" / "mse_gradient.ipynb", destination)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 400])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="msegrad-memory-") as folder:
        for size in args.sizes:
            submitted = Path(folder) / f"class-{size}"
            make_class(submitted, size)
            started = time.monotonic()
            result = subprocess.run([sys.executable, "-c", MEASURE, "grade", str(submitted), "--csv",
                                     str(Path(folder) / f"grades-{size}.csv"), "--jobs", str(args.jobs),
                                     "--no-progress"], capture_output=True, text=True, cwd=ROOT)
            peak = next((int(line.split()[1]) for line in result.stderr.splitlines() if line.startswith("peak-kb")),
                        None)
            if peak is None:
                print(result.stdout, result.stderr, file=sys.stderr)
                return 1
            print(f"{size:5d} notebooks: grader peak RSS {peak / 1024:6.1f} MB  "
                  f"({time.monotonic() - started:.1f} s, exit {result.returncode})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
