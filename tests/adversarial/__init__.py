"""Submissions that attack the isolated grader, and the notebooks they come in."""
