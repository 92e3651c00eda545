"""``msegrad gradescope``: build a Gradescope autograder bundle.

The zip holds setup.sh and run_autograder at its root, the grader's source and
pinned requirements: upload it as a Gradescope programming assignment's
autograder. Every submission is then graded like ``msegrad grade`` grades it
(same sandbox, checks, points and seed), and each result can be replayed here
with the command printed in it.
"""
from __future__ import annotations

import argparse
import sys

from autograder import spec


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "gradescope", help="build a Gradescope autograder bundle",
        description=" ".join(__doc__.split("\n\n")[1].replace("``", "").split()),
        epilog=f"Gradescope shows the visible checks at once and the hidden ones after the due date; "
               f"the maximum score is {spec.MAX_SCORE:g}.")
    parser.add_argument("--assignment", metavar="ID", default=None,
                        help="the assignment this bundle grades (default: the course's first)")
    parser.add_argument("--out", default="autograder.zip", metavar="ZIP",
                        help="the bundle to write (default: autograder.zip)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the random check cases (default: $MSEGRAD_SEED or the course's)")
    parser.add_argument("--timeout", type=float, default=None, metavar="S",
                        help="seconds for one function's checks (default: msegrad grade's)")
    parser.add_argument("--top-timeout", type=float, default=None, metavar="S",
                        help="seconds for the notebook's top-level code (default: msegrad grade's)")
    parser.add_argument("--memory-mb", type=int, default=None, metavar="MB",
                        help="memory a submission may allocate (default: msegrad grade's)")
    parser.add_argument("--run", metavar="ROOT", default=None,
                        help="instead of building: grade ROOT/submission/ into ROOT/results/results.json, "
                             "as run_autograder does on Gradescope (ROOT stands for /autograder)")
    return parser


def run(args) -> int:
    from autograder import gradescope
    if args.run is not None:
        return gradescope.main(args.run)
    try:
        path = gradescope.build_bundle(args.out, seed=args.seed, function_timeout=args.timeout,
                                       top_timeout=args.top_timeout, memory_mb=args.memory_mb,
                                       assignment=args.assignment)
    except (ValueError, OSError) as error:   # assignments.UnknownAssignment is a ValueError
        print(f"msegrad gradescope: error: {error}", file=sys.stderr)
        return 2
    config = gradescope.read_config_from_zip(path)
    print(f"wrote {path} ({config.get('assignment')}, seed {config.get('seed')}): upload it as the assignment's autograder on Gradescope")
    return 0
