"""The course's assignments, one unit (a Python package) each; see docs/assignments.md."""
