"""Every run says which sandbox the grader's tests got: as root and as an ordinary user they differ."""
from __future__ import annotations

import os
import pwd

from autograder import sandbox


def _mode_line() -> str:
    mode = sandbox.choose_mode()
    uid = os.geteuid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = "?"
    line = f"sandbox mode: {mode.name}, as {user} (uid {uid})"
    return f"{line}: {mode.reason}" if mode.reason else line


def pytest_report_header(config):
    return _mode_line()


def pytest_sessionstart(session):
    # -q hides the header; the mode still gets its line.
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and session.config.get_verbosity() < 0:
        reporter.write_line(_mode_line())
