"""Runners: the ways a submission reaches the grader (nbgrader's autograde, the student kit)."""
