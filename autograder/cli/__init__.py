"""``msegrad``: one command, one module per subcommand.

Each module in this package named in SUBCOMMANDS defines
``add_parser(subparsers)`` (which returns its parser) and ``run(args) -> int``.
Modules are imported only when their subcommand runs, so ``msegrad check``
does not pay for Manim.
"""
from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = {
    "check": "check a notebook with the visible checks, outside Jupyter",
    "grade": "grade submissions in isolation and write a CSV",
    "render": "render the Manim videos",
    "report": "write the class report from a grades CSV",
    "gradescope": "build a Gradescope autograder bundle",
    "kit": "build the student kit (release notebook, visible checks, README)",
}


def _module(name: str):
    return importlib.import_module(f"autograder.cli.{name}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="msegrad", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    for name, help_text in SUBCOMMANDS.items():
        if name == chosen:
            _module(name).add_parser(subparsers)
        else:
            subparsers.add_parser(name, help=help_text, add_help=False)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(_module(args.command).run(args) or 0)
    except KeyboardInterrupt:
        print("msegrad: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
