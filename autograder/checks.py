"""The checks as nbgrader's test cells call them inside the student's kernel (in-kernel mode).

``nbgrader autograde`` runs submissions in the sandbox instead
(autograder/runners/nbgrader.py); this module serves the in-kernel mode
(``IsolatedExecute.in_kernel``) and ``msegrad check``. Students' own copy
of the visible checks is the kit's (autograder/runners/kit/checks.py).

    from autograder.checks import check
    check("dC_dm_lecture_data")        # prints feedback; its value is the points earned

The probe runs the student's function in a forked child of the kernel, so
a crash, os._exit, an endless loop that ignores interrupts or a memory
blow-up inside one function costs that function's checks, not the kernel
(nbgrader would drop the whole submission). Its numbers come back as JSON,
exactly as from the isolated grader's sandbox, and the judge decides in the
kernel's process. The cell's last value is the points (nbgrader's partial
credit), never an exception and never stderr output, so a wrong answer
earns what it earns and says why.
"""
from __future__ import annotations

import inspect
import json
import os
import select
import signal
import sys
import textwrap
import time
import warnings

from autograder import assignments, config, judge, probes

# Wall-clock bound on one check's child. Each call inside is bounded at
# probes.CALL_SECONDS and a timeout stops the rest, so only code that ignores
# the alarm reaches this.
# course.toml's limits.function_seconds, the same bound as one function's checks in `msegrad grade`.
CHILD_SECONDS = float(config.get("limits", "function_seconds"))
# Extra address space the child may map beyond what the kernel already has:
# ample for any honest answer, far below what would hurt the machine.
CHILD_EXTRA_MEMORY = 2 << 30


def _limit_memory() -> None:
    try:
        import resource

        with open("/proc/self/statm") as statm:
            current = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = current + CHILD_EXTRA_MEMORY
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError, ImportError):
        pass


def _child(namespace: dict, cell_id: str, seed, write_fd: int) -> None:
    """In the forked child: probe, send JSON, and leave without running any cleanup."""
    code = 0
    try:
        import faulthandler

        faulthandler.disable()  # a crash report would reach the kernel's stderr
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        sys.stdout = sys.stderr = open(os.devnull, "w")
        # The kernel's torch may have run ops on its thread pool before this fork: a forked
        # child that enters that pool waits forever for threads it does not have.
        import torch
        torch.set_num_threads(1)
        _limit_memory()
        unit = assignments.for_cell(cell_id)
        payload = json.dumps(unit.probes.probe_cell(namespace, cell_id, unit.cases.cell_inputs(cell_id, seed))).encode()
        view = memoryview(payload)
        while view:
            view = view[os.write(write_fd, view):]
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def probe_in_child(namespace: dict, cell_id: str, seed=None, seconds: float | None = None):
    """(probe, failure): the probe's dict from a forked child, or why there is none."""
    seconds = CHILD_SECONDS if seconds is None else seconds
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(namespace, cell_id, seed, write_fd)
    os.close(write_fd)
    chunks, deadline, timed_out = [], time.monotonic() + seconds, False
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read_fd], [], [], remaining)
            if ready:
                chunk = os.read(read_fd, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        os.close(read_fd)
        if timed_out:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if timed_out:
        return None, "timeout"
    if os.WIFSIGNALED(status):
        return None, "memory" if os.WTERMSIG(status) == signal.SIGKILL else "crash"
    code = os.WEXITSTATUS(status)
    if not chunks or code != 0:
        return None, "exit"
    try:
        return json.loads(b"".join(chunks)), None
    except ValueError:
        return None, "exit"


# Feedback is read in a notebook's output area and in feedback HTML, where
# long lines scroll sideways: wrap at this width, continuation lines indented.
WIDTH = 100
INDENT = "       "


def format_result(result: judge.CheckResult) -> str:
    """'[PASS|PART|FAIL] cell_id: points/max  message', wrapped at WIDTH."""
    mark = "PASS" if result.passed else ("PART" if result.points > 0 else "FAIL")
    text = f"[{mark}] {result.cell_id}: {result.points:g}/{result.max_points:g}  {result.message}"
    return textwrap.fill(text, WIDTH, subsequent_indent=INDENT, break_on_hyphens=False,
                         break_long_words=False)


def run_check(cell_id: str, namespace: dict, seed: int | None = None) -> judge.CheckResult:
    """Probe and judge one grade cell against the functions defined in ``namespace``."""
    try:
        unit = assignments.for_cell(cell_id)
    except KeyError:
        known = [cell for each in assignments.every() for cell in each.spec.CELLS_BY_ID]
        raise KeyError(f"unknown check {cell_id!r}; known: {', '.join(known)}") from None
    function = unit.spec.CELLS_BY_ID[cell_id].function
    if hasattr(os, "fork"):
        probe, failure = probe_in_child(namespace, cell_id, seed)
    else:  # no fork (Windows): in this process, still through JSON
        probed = unit.probes.probe_cell(namespace, cell_id, unit.cases.cell_inputs(cell_id, seed))
        probe, failure = json.loads(json.dumps(probed)), None
    if failure == "timeout" or any(case.get("timeout") for case in (probe or {}).get("cases", [])):
        probes.timed_out(namespace).add(function)  # the child's note of it died with the child
    with warnings.catch_warnings():  # a library warning would reach stderr and zero the cell
        warnings.simplefilter("ignore")
        return unit.judge.judge_cell(cell_id, probe, failure, seed=seed)


def check(cell_id: str, namespace: dict | None = None, seed: int | None = None) -> float:
    """Run one check on the caller's functions, print its feedback, return its points."""
    if namespace is None:
        namespace = inspect.currentframe().f_back.f_globals
    result = run_check(cell_id, namespace, seed)
    print(format_result(result))
    return result.points
