"""``make exercises``: regenerate the student release from solutions/ with nbgrader.

    python -m autograder.release

Writes exercises/mse-gradient/mse_gradient.ipynb (commit the result); the
release test fails while it is out of date.
"""
from __future__ import annotations

import sys

from autograder import course


def main(argv: list[str] | None = None) -> int:
    path = course.generate_release(course.ROOT)
    print(f"wrote {path.relative_to(course.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
