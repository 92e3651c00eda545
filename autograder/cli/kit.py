"""``msegrad kit --out DIR``: build what students receive (release notebook, visible checks, README)."""
from __future__ import annotations

import argparse
import sys


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "kit", help="build the student kit", description=__doc__.splitlines()[0].split(": ", 1)[1])
    parser.add_argument("--out", default="out/kit", metavar="DIR", help="the kit's folder (default: out/kit)")
    parser.add_argument("--assignment", metavar="ID", default=None,
                        help="the assignment the kit is for (default: the course's first)")
    return parser


def run(args) -> int:
    from autograder.runners import kit
    try:
        folder = kit.build(args.out, assignment=args.assignment)
    except kit.KitError as error:
        print(f"msegrad kit: error: {error}", file=sys.stderr)
        return 2
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        print(path)
    print(f"student kit: {folder} (send the whole folder; README.md says how to install and submit)")
    return 0
