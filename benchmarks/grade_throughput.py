"""Throughput of `nbgrader autograde`, isolated against in-kernel, side by side on the same submissions.

    .venv/bin/python benchmarks/grade_throughput.py [--students 25] [--rounds 1] [--jobs 2] [--sandboxes N]

Builds a temporary course (the repository's nbgrader_config.py and source
notebook, nbgrader's own release), submits the sample class's answers
(examples/submissions.py: honest styles, honest mistakes, a crash) cycled to
--students students, leaving out the endless loop (it spends the same time
limit either way and would hide the rest), then times, in this one run, each
`nbgrader autograde` from the gradebook as it was before the class's first:

1. nbgrader alone: `nbgrader autograde` with every preprocessor of the
   course's nbgrader_config.py but the one that executes (IsolatedExecute):
   nbgrader's own cost per notebook, which both modes pay;
2. `nbgrader autograde`, isolated (the default: the course's sandbox,
   IsolatedExecute.jobs sandboxes as configured unless --sandboxes says);
3. `nbgrader autograde --IsolatedExecute.in_kernel=True` (nbgrader's own
   Execute, a fresh kernel per notebook, the checks inside it);
4. `msegrad grade` on the same submitted/ folder, for reference;
5. `msegrad grade` on --repeat copies of every submission (125 notebooks by
   default), the class size where its start-up no longer counts, against
   nbgrader's in-kernel rate per notebook from step 3;

and prints the seconds per notebook (whole run, and the steady rate between
the second and the last notebook, after start-up), the ratio in-kernel /
isolated, and whether both modes gave every student the same points. With
more than 25 students it also prints the ratio over the first 25 notebooks
of the same runs, start-up included (from each run's start to the moment
nbgrader moves on to the 26th notebook).

With --rounds R, steps 2 and 3 run R times, alternating, and the ratios are
given per round (each isolated run against the in-kernel run right after
it) and as their median: on a small shared machine a single whole run of
ten seconds moves by a second or two from one run to the next.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from autograder import batch, course, spec  # noqa: E402
from examples.build import answers_for  # noqa: E402
from examples.submissions import STUDENTS  # noqa: E402

LEFT_OUT = ("shafi",)     # the endless loop
EXECUTE = "IsolatedExecute"
SANITIZING = re.compile(r"Sanitizing .*[/\\]submitted[/\\]([^/\\]+)[/\\]")
# The class size: the whole-run ratio is also given over this many notebooks.
FIRST = 25


def no_execution(course_dir: Path) -> str:
    """The option that runs the course's autograde preprocessors without the one that executes."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()
    steps = [step for step in config.Autograde.autograde_preprocessors if not step.endswith("." + EXECUTE)]
    return "--Autograde.autograde_preprocessors=[" + ",".join(f'"{step}"' for step in steps) + "]"


def build_class(course_dir: Path, count: int) -> list[str]:
    release = course.generate_release(course_dir)
    names = [name for name in STUDENTS if name not in LEFT_OUT]
    scratch = course_dir.parent / "build"
    scratch.mkdir()
    ids = []
    for index in range(count):
        sample = names[index % len(names)]
        student = f"{sample}{index // len(names) or ''}"
        path = scratch / f"{student}.ipynb"
        nbformat.write(course.fill_answers(release, answers_for(sample)), path)
        course.submit(course_dir, student, path)
        ids.append(student)
    return ids


class Run:
    """One `nbgrader autograde`: its wall time, when each notebook started and when nbgrader began
    sanitizing each."""

    def __init__(self, label: str, seconds: float, starts: list[float], failed: list[str],
                 sanitizing: list[float] | None = None):
        self.label, self.seconds, self.starts, self.failed = label, seconds, starts, failed
        self.sanitizing = sanitizing or []

    def per_notebook(self, count: int) -> float:
        return self.seconds / count

    def first(self, count: int) -> float:
        """Seconds per notebook over the first `count` notebooks, start-up included: from the run's start
        to nbgrader's start on notebook count + 1 (the whole run when there is none)."""
        end = self.sanitizing[count] if len(self.sanitizing) > count else self.seconds
        return end / count

    def steady(self) -> float:
        """Seconds per notebook from the second notebook's start to the last's (start-up left out)."""
        if len(self.starts) < 3:
            return self.seconds / max(1, len(self.starts))
        return (self.starts[-1] - self.starts[1]) / (len(self.starts) - 2)


def first_autograde(course_dir: Path) -> None:
    """Put the gradebook back as it was before the first autograde of the class, and remove the graded
    notebooks: every timed run is the class's first autograde, whatever ran before it (a run that
    changes every score writes more than one that finds them already there)."""
    pristine = course_dir.parent / "gradebook-before-autograde.db"
    if not pristine.exists():
        shutil.copy2(course_dir / "gradebook.db", pristine)
    shutil.copy2(pristine, course_dir / "gradebook.db")
    shutil.rmtree(course_dir / "autograded", ignore_errors=True)


def autograde(course_dir: Path, label: str, *extra: str) -> Run:
    first_autograde(course_dir)
    command = [sys.executable, "-m", "nbgrader", "autograde", spec.ASSIGNMENT, "--create", "--force", *extra]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=course_dir, env=course._env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    starts, sanitizing, lines = [], [], []
    for line in process.stdout:
        lines.append(line)
        if course.AUTOGRADING.search(line):
            starts.append(time.perf_counter() - started)
        elif SANITIZING.search(line):
            sanitizing.append(time.perf_counter() - started)
    code = process.wait()
    seconds = time.perf_counter() - started
    log = "".join(lines)
    failed = sorted(set(course.STUDENT_FAILED.findall(log)))
    if code != 0 and not failed:
        raise SystemExit(f"{label}: nbgrader autograde failed ({code}):\n{log[-3000:]}")
    return Run(label, seconds, starts, failed, sanitizing)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=25)
    parser.add_argument("--jobs", type=int, default=2, help="sandboxes for msegrad grade")
    parser.add_argument("--sandboxes", type=int, default=0,
                        help="IsolatedExecute.jobs for the isolated run (0: the course's setting)")
    parser.add_argument("--repeat", type=int, default=5, help="copies of each submission for msegrad grade's big run")
    parser.add_argument("--rounds", type=int, default=1,
                        help="isolated and in-kernel runs, alternating; ratios per round and their median")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="msegrad-bench-") as scratch:
        course_dir = course.make_course(Path(scratch) / "course")
        students = build_class(course_dir, args.students)
        count = len(students)
        print(f"{count} submissions, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)

        runs = [autograde(course_dir, "nbgrader alone (no execution)", no_execution(course_dir))]
        pairs, scores = [], []
        for round_ in range(1, args.rounds + 1):
            suffix = f", round {round_}" if args.rounds > 1 else ""
            isolated = autograde(course_dir, "isolated (default)" + suffix,
                                 *([f"--IsolatedExecute.jobs={args.sandboxes}"] if args.sandboxes else []))
            scores.append(("isolated" + suffix, course.cell_scores(course_dir)))
            in_kernel = autograde(course_dir, "in-kernel (IsolatedExecute.in_kernel)" + suffix,
                                  "--IsolatedExecute.in_kernel=True")
            scores.append(("in-kernel" + suffix, course.cell_scores(course_dir)))
            runs += [isolated, in_kernel]
            pairs.append((isolated, in_kernel))
        started = time.perf_counter()
        summary = batch.grade_paths([course_dir / "submitted"], Path(scratch) / "grades.csv", jobs=args.jobs,
                                    force=True, progress=False, quiet=True)
        msegrad_seconds = time.perf_counter() - started
        big = Path(scratch) / "big"
        for student in students:
            for copy in range(args.repeat):
                target = big / f"{student}-{copy}" / spec.ASSIGNMENT
                target.mkdir(parents=True)
                shutil.copy2(course_dir / "submitted" / student / spec.ASSIGNMENT / spec.NOTEBOOK, target)
        started = time.perf_counter()
        big_summary = batch.grade_paths([big], Path(scratch) / "big.csv", jobs=args.jobs, force=True,
                                        progress=False, quiet=True)
        big_seconds = time.perf_counter() - started

    print(f"{'':48} {'s/notebook':>10} {'steady':>8}  (whole run; steady: after start-up)")
    for run in runs:
        failed = f"  ({len(run.failed)} left for manual grading)" if run.failed else ""
        print(f"{run.label:48} {run.per_notebook(count):10.3f} {run.steady():8.3f}  "
              f"{run.seconds:6.1f} s in all, first notebook from {run.starts[0]:.1f} s to "
              f"{run.starts[1] if len(run.starts) > 1 else run.seconds:.1f} s{failed}")
    print(f"{'msegrad grade (outside nbgrader)':48} {msegrad_seconds / count:10.3f} "
          f"{summary.steady_seconds_per_notebook:8.3f}  {msegrad_seconds:6.1f} s in all")
    big_count = big_summary.graded
    print(f"{'msegrad grade, ' + str(big_count) + ' notebooks':48} {big_seconds / big_count:10.3f} "
          f"{big_summary.steady_seconds_per_notebook:8.3f}  {big_seconds:6.1f} s in all")
    in_kernel_rate = statistics.median(in_kernel.per_notebook(count) for _, in_kernel in pairs)
    in_kernel_steady = statistics.median(in_kernel.steady() for _, in_kernel in pairs)
    print(f"msegrad grade is {in_kernel_rate / (big_seconds / big_count):.1f}x faster per notebook "
          f"than nbgrader's in-kernel autograde over {big_count} notebooks, start-up included "
          f"({in_kernel_steady / big_summary.steady_seconds_per_notebook:.1f}x at the steady rates)")
    whole = [in_kernel.per_notebook(count) / isolated.per_notebook(count) for isolated, in_kernel in pairs]
    steady = [in_kernel.steady() / isolated.steady() for isolated, in_kernel in pairs]
    rounds = f" (rounds: {', '.join(f'{ratio:.1f}x' for ratio in whole)}; median)" if len(pairs) > 1 else ""
    print(f"isolated is {statistics.median(whole):.1f}x faster per notebook than in-kernel over the whole run of "
          f"{count} notebooks{rounds}, {statistics.median(steady):.1f}x at the steady rate")
    if count > FIRST:
        first = [in_kernel.first(FIRST) / isolated.first(FIRST) for isolated, in_kernel in pairs]
        print(f"over the first {FIRST} notebooks of these runs, start-up included: in-kernel "
              f"{statistics.median(in_kernel.first(FIRST) for _, in_kernel in pairs):.3f} s/notebook, isolated "
              f"{statistics.median(isolated.first(FIRST) for isolated, _ in pairs):.3f} s/notebook, "
              f"{statistics.median(first):.1f}x")
    alone = runs[0]
    isolated_steady = statistics.median(isolated.steady() for isolated, _ in pairs)
    print(f"nbgrader's own cost: {alone.steady():.3f} s per notebook (sanitizing, the gradebook, writing, "
          f"every preprocessor but the execution), {alone.seconds - alone.steady() * count:.1f} s to start; "
          f"the isolated run adds {isolated_steady - alone.steady():.3f} s per notebook to it at the steady rate, "
          f"the in-kernel run {in_kernel_steady - alone.steady():.3f} s")
    reference_label, reference = scores[0]
    mismatches = [f"{student}.{cell.id}: {reference_label} {reference[student][cell.id]}, "
                  f"{label} {other.get(student, {}).get(cell.id)}"
                  for label, other in scores[1:] for student in students for cell in spec.GRADE_CELLS
                  if abs(reference[student][cell.id] - other.get(student, {}).get(cell.id, -1)) > 1e-6]
    if mismatches:
        print(f"score mismatches ({len(mismatches)}):")
        for line in mismatches[:30]:
            print("  " + line)
    else:
        print(f"scores: identical in all {len(scores)} runs (both modes) for all {count} students and "
              f"{len(spec.GRADE_CELLS)} grade cells")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
