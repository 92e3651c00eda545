"""``make exercises``: regenerate the student release from solutions/ with nbgrader.

    python -m autograder.release

Writes exercises/<id>/<notebook> for every assignment of the course (commit
the result); the release test fails while one is out of date.
"""
from __future__ import annotations

import sys

from autograder import assignments, course


def main(argv: list[str] | None = None) -> int:
    for unit in assignments.every():
        path = course.generate_release(course.ROOT, unit)
        print(f"wrote {path.relative_to(course.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
