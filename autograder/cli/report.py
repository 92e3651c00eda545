"""``msegrad report``: the class report of a grades CSV.

Writes DIR/index.html with plots (scores, the pass rate of every check, the
named mistakes to take up in the next lecture, flagged students, the slowest
submissions) and prints a short summary.
"""
from __future__ import annotations

import argparse
import sys


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "report", help="write the class report from a grades CSV",
        description=" ".join(__doc__.split("\n\n")[1].split()))
    parser.add_argument("csv", metavar="GRADES_CSV", help="the CSV written by msegrad grade --csv")
    parser.add_argument("--out", default="out/report", metavar="DIR",
                        help="folder for index.html and its plots (default: out/report)")
    return parser


def run(args) -> int:
    from autograder import report
    try:
        built = report.build_report(args.csv)
        index = report.write(built, args.out)
    except report.ReportError as error:
        print(f"msegrad report: error: {error}", file=sys.stderr)
        return 2
    for warning in built.grades.warnings:
        print(f"msegrad report: warning: {warning}", file=sys.stderr)
    print(built.summary())
    print(f"wrote {index}")
    return 0
