"""``msegrad grade``: grade submissions in isolation and write a CSV.

Every student's code runs in a bubblewrap sandbox (no network, no course
files, limits on time, memory, processes and output); the points are decided
outside it from plain numbers. Interrupted runs resume: run the same command
again and only the students missing from the CSV are graded.
"""
from __future__ import annotations

import argparse
import os
import sys

from autograder import assignments, batch
from autograder.sandbox import SandboxError


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "grade", help="grade submissions in isolation and write a CSV",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
        epilog="CSV columns: student, score, max_score, one per grade cell of the assignment, flags, "
               "mistakes, seconds, assignment.")
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="notebooks, student folders (<student>/mse-gradient/mse_gradient.ipynb) "
                             "or a class folder of student folders")
    parser.add_argument("--assignment", metavar="ID",
                        help="the assignment graded (default: told from nbgrader's layout, <student>/<ID>/...)")
    parser.add_argument("--csv", required=True, metavar="OUT", help="the grades file (appended to, resumable)")
    parser.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                        help="sandboxes in parallel (default: the number of CPUs)")
    parser.add_argument("--feedback", metavar="DIR", help="write one HTML feedback page per student here")
    parser.add_argument("--force", action="store_true", help="regrade everyone, overwriting the CSV")
    parser.add_argument("--seed", type=int, default=None, help="seed of the random check cases (default: $MSEGRAD_SEED or the course's)")
    parser.add_argument("--timeout", type=float, default=None, metavar="S",
                        help="seconds for one function's checks (default: $MSEGRAD_TIMEOUT, or course.toml's limits.function_seconds)")
    parser.add_argument("--top-timeout", type=float, default=None, metavar="S",
                        help="seconds for the notebook's top-level code (default: $MSEGRAD_TOP_TIMEOUT, or course.toml's limits.top_level_seconds)")
    parser.add_argument("--memory-mb", type=int, default=None, metavar="MB",
                        help="memory a submission may allocate (default: $MSEGRAD_MEMORY_MB, or course.toml's limits.memory_mb)")
    parser.add_argument("--gradebook", metavar="DB",
                        help="nbgrader's gradebook.db: list students whose nbgrader score is higher than the isolated one")
    parser.add_argument("--write-gradebook", action="store_true",
                        help="with --gradebook: store the isolated points as nbgrader manual scores")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run student code without bubblewrap (resource limits only; rows flagged unsandboxed)")
    parser.add_argument("--require-sandbox", action="store_true",
                        help="fail instead of falling back when bubblewrap cannot run")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show a progress bar (default: when stderr is a terminal)")
    return parser


def run(args) -> int:
    if args.write_gradebook and not args.gradebook:
        print("msegrad grade: --write-gradebook needs --gradebook DB", file=sys.stderr)
        return 2
    if args.jobs is not None and args.jobs < 1:
        print("msegrad grade: --jobs must be at least 1", file=sys.stderr)
        return 2
    limits = batch.Limits.from_env(function_timeout=args.timeout, top_timeout=args.top_timeout,
                                   memory_mb=args.memory_mb)
    sandbox = "none" if args.no_sandbox else ("bwrap" if args.require_sandbox else "auto")
    hide = [args.gradebook] if args.gradebook else []
    try:
        unit = assignments.get(args.assignment) if args.assignment else assignments.detect(args.paths)
        summary = batch.grade_paths(args.paths, args.csv, jobs=args.jobs, feedback=args.feedback,
                                    force=args.force, seed=args.seed, limits=limits, sandbox=sandbox,
                                    progress=args.progress, hide=hide, assignment=unit)
    except (batch.InputError, assignments.UnknownAssignment) as error:
        print(f"msegrad grade: error: {error}", file=sys.stderr)
        return 2
    except SandboxError as error:
        print(f"msegrad grade: error: {error}", file=sys.stderr)
        return 3
    print(summary.line())
    status = 0
    if summary.grader_errors:
        names = ", ".join(summary.grader_errors[:10]) + (" ..." if len(summary.grader_errors) > 10 else "")
        print(f"msegrad grade: the grader failed on {len(summary.grader_errors)} notebook(s), "
              f"each written with zeros and the flag grader-error: {names}", file=sys.stderr)
        status = 4
    if args.gradebook:
        try:
            comparison = batch.compare_gradebook(args.csv, args.gradebook, write=args.write_gradebook,
                                                 assignment=unit)
        except batch.InputError as error:
            print(f"msegrad grade: error: {error}", file=sys.stderr)
            return 2
        print(comparison.report())
        if args.write_gradebook:
            print(f"wrote the isolated points into {args.gradebook} as manual scores "
                  f"({unit.name}, {comparison.compared} students)")
    return status
