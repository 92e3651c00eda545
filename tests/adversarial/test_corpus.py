"""The adversarial corpus, graded in one run: each attack loses only what it should, and leaves nothing behind."""
from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from autograder import batch, feedback, sandbox
from autograder.spec import FUNCTIONS

from .corpus import ATTACKS, fill
from .notebooks import full, scores_by_function, write_student

needs_bwrap = pytest.mark.skipif(not sandbox.choose_mode().sandboxed,
                                 reason="bubblewrap cannot run here: " + sandbox.choose_mode().reason)
# Short limits keep the hangs cheap; honest code needs well under a second per function.
LIMITS = batch.Limits(function_timeout=4.0, top_timeout=4.0)
HOSTILE_ID = "<img src=x onerror=alert(1)>&eve"
PLANTED = [Path("/work/planted.txt"), Path("/etc/planted.txt"), Path("/usr/planted.txt"),
           Path("/var/tmp/planted.txt"), Path("/planted.txt")]


def _nobody_processes() -> set[int]:
    found = set()
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid == sandbox.NOBODY:
                    found.add(int(name))
            except OSError:
                pass
    return found


def _describe(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            stat = handle.read()
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return stat[:60] + " " + handle.read().replace(b"\0", b" ").decode()[:120]
    except OSError:
        return "gone"


class _Listener:
    """A TCP server on 127.0.0.1 that counts connections."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self):
        self.stop.set()
        self.thread.join(2)
        self.server.close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("adversarial")
    course = root / "course"
    (course / "solutions" / "mse-gradient").mkdir(parents=True)
    (course / "solutions" / "mse-gradient" / "mse_gradient.ipynb").write_text('{"secret": "solution"}')
    (course / "gradebook.db").write_bytes(b"gradebook")
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    listener = _Listener()
    values = {"course": course, "outside": outside, "port": listener.port}
    for name, (answers, top, _) in ATTACKS.items():
        write_student(course / "submitted", name, {k: fill(v, **values) for k, v in answers.items()},
                      fill(top, **values))
    write_student(course / "submitted", HOSTILE_ID,
                  top="print('<script>alert(1)</script>')\n")
    before = {path: path.read_bytes() for path in sorted(course.rglob("*")) if path.is_file()}
    nobody_before = _nobody_processes()
    csv_path = root / "grades.csv"
    summary = batch.grade_paths([course / "submitted"], csv_path, jobs=2, limits=LIMITS,
                                feedback=root / "feedback", progress=False, quiet=True)
    listener.close()
    rows = {row["student"]: row for row in batch.read_csv(csv_path)}
    after = {path: path.read_bytes() for path in sorted(course.rglob("*")) if path.is_file()}
    return {"rows": rows, "summary": summary, "before": before, "after": after, "outside": outside,
            "listener": listener, "nobody_before": nobody_before, "root": root}


@needs_bwrap
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_loses_only_its_own_points(graded, attack):
    _, _, expect = ATTACKS[attack]
    row = graded["rows"][attack]
    scores = scores_by_function(row)
    for function in FUNCTIONS:
        wanted = expect[function]
        if wanted == "full":
            assert scores[function] == full(function), (function, row)
        elif wanted == "wrong":
            assert scores[function] < full(function), (function, row)
        else:
            assert scores[function] == wanted, (function, row)
    flags = row["flags"].split()
    for word in expect.get("flags", []):
        assert word in flags, (word, row["flags"])
    assert "unsandboxed" not in flags


@needs_bwrap
def test_every_student_gets_exactly_one_row(graded):
    assert sorted(graded["rows"]) == sorted([*ATTACKS, HOSTILE_ID])
    assert graded["summary"].graded == len(ATTACKS) + 1


@needs_bwrap
def test_no_file_appears_or_changes_outside_the_scratch_folder(graded):
    assert graded["after"] == graded["before"]
    assert sorted(p.name for p in graded["outside"].iterdir()) == ["secret.txt"]
    for path in PLANTED:
        assert not path.exists(), path


@needs_bwrap
def test_nothing_reached_the_loopback_server(graded):
    assert graded["listener"].connections == 0


@needs_bwrap
def test_no_process_survives_the_run(graded):
    # Fork bombs and setsid daemons ran as the sandbox user (nobody outside): none is left
    # once the sandboxes' PID namespaces have been torn down (a matter of milliseconds).
    deadline = time.monotonic() + 5
    while _nobody_processes() - graded["nobody_before"] and time.monotonic() < deadline:
        time.sleep(0.05)
    left = _nobody_processes() - graded["nobody_before"]
    assert left == set(), {pid: _describe(pid) for pid in left}


@needs_bwrap
def test_feedback_pages_escape_what_the_student_controls(graded):
    folder = graded["root"] / "feedback"
    pages = {path.name for path in folder.iterdir()}
    assert len(pages) == len(ATTACKS) + 1
    page = (folder / feedback.page_name(HOSTILE_ID)).read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;&amp;eve" in page
    honest = (folder / "honest_lecture_style.html").read_text()
    assert "data:image/png;base64," in honest          # the descent-path plot
    assert "dC_dm_matches_autograd" in honest
