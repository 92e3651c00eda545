"""The warm process that runs submissions inside the sandbox: ``python -m autograder.worker``.

It imports torch and the probes once, then serves requests: one JSON line per
submission on stdin, one JSON line back on the result fd (``--result-fd``,
never stdout, so nothing a student prints can reach that channel). It never
judges: it only reports the plain numbers the probes recorded and what went
wrong, and ``autograder.batch`` decides the points outside the sandbox.

Per submission (process tree; S and F run student code, the worker never does):

    worker (child subreaper, not dumpable; in the sandbox its namespace's root)
      S  execs the notebook's cells once, as the student's user, in a fresh
         scratch folder, under limits
        F  a fork of S that probes the functions in turn (probe_function),
           framing a JSON result per function back to S through a pipe

S kills F when a function runs past the time limit, so a hang, crash,
``os._exit`` or memory blow-up in sgd costs only sgd; the functions after a
failed one get a fresh fork of S, from the state the top-level cells left. The worker times S out
as a whole when S stops answering, retries the functions S did not reach in a
fresh S, and when the submission is done kills every process left (daemons
that called setsid included: as subreaper, the worker inherits them) and
empties the scratch folder.
"""
from __future__ import annotations

import argparse
import builtins
import ctypes
import json
import os
import resource
import select
import shutil
import signal
import sys
import time

# Set before torch is imported: one thread per process (two sandboxes share
# two cores) and no fork-unsafe thread pool in the children.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36

# A probe's JSON for all cells of one function is tens of kilobytes; anything
# near this is not a probe.
MAX_PAYLOAD = 16 * 1024 * 1024
# The start of the student's output kept for the feedback page.
OUTPUT_HEAD = 4096
# S waits for F's exit this long after F closed its pipe or was killed.
REAP_SECONDS = 2.0
# S has this long between messages outside student code (after the top-level
# cells, between functions): a fork and a flush, milliseconds unless S is broken.
STEP_SECONDS = 5.0

# matplotlib's config and font cache in the sandbox, made before the worker
# drops its privileges, so students can read but not change it.
MPLCONFIG = "/tmp/.matplotlib"

DEFAULTS = {
    "top_timeout": 30.0,       # wall seconds for all top-level cells
    "function_timeout": 60.0,  # wall seconds for one function's probe (all its cells)
    "memory_mb": 1024,         # address space beyond the warm worker's own
    "nproc": 32,               # processes of the sandbox user (worker, S and F included)
    "fsize_mb": 16,            # largest file a student may write
    "nofile": 256,             # open files
    "output_limit": 1024 * 1024,  # bytes of printed output before the `output` flag
}

_libc = ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> None:
    _libc.prctl(option, ctypes.c_ulong(value), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))


# --- the submission process S and its per-function forks F ------------------------

# Attributes whose identity is recorded before the student's code runs and
# compared after each probe: a change means the code patched them. Patching
# cannot change a score (nothing in here decides one); the flag only informs.
_WATCHED = {
    "numpy": ("allclose", "isclose", "array_equal", "asarray", "array", "sum", "mean", "abs", "max", "isfinite"),
    "numpy.testing": ("assert_allclose", "assert_array_almost_equal", "assert_almost_equal"),
    "torch": ("allclose", "isclose", "equal", "tensor", "as_tensor", "sum", "mean", "abs", "max", "isfinite",
              "stack", "from_numpy"),
    "torch.testing": ("assert_close",),
    "math": ("isclose", "isfinite", "fabs"),
    "json": ("dumps", "loads", "dump"),
    "builtins": ("float", "abs", "len", "isinstance", "round", "sum", "max", "min", "print", "__import__"),
}
# Modules of the grader itself: every callable in them is watched.
_WATCHED_WHOLE = ("autograder.probes", "autograder.cases", "autograder.reference", "autograder.spec",
                  "autograder.checks", "autograder.judge")
_WATCHED_TORCH_TYPE = ("__add__", "__sub__", "__mul__", "__truediv__", "__pow__", "sum", "mean",
                       "item", "numpy", "tolist", "backward", "__float__", "__len__", "detach", "double")


def _watched() -> dict:
    """id() of every watched attribute, keyed 'module.name' (a few hundred; well under a millisecond)."""
    snapshot = {}
    modules = sys.modules
    for name, attributes in _WATCHED.items():
        module = modules.get(name)
        if module is not None:
            for key in attributes:
                snapshot[f"{name}.{key}"] = id(getattr(module, key, None))
    for name in _WATCHED_WHOLE:
        module = modules.get(name)
        if module is not None:
            for key, value in list(vars(module).items()):
                if not key.startswith("__") and callable(value):
                    snapshot[f"{name}.{key}"] = id(value)
    torch = modules.get("torch")
    if torch is not None:
        for key in _WATCHED_TORCH_TYPE:
            snapshot[f"torch.Tensor.{key}"] = id(getattr(torch.Tensor, key, None))
    return snapshot


def _tampered(before: dict) -> list[str]:
    after = _watched()
    return sorted(key for key, ident in before.items() if after.get(key) != ident)[:20]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except InterruptedError:
            continue
        view = view[written:]


def _describe_status(status: int) -> tuple[str | None, str]:
    """(failure word or None, human detail) for a wait status of a process that sent no result."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        if number in (signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT,
                      signal.SIGSYS, signal.SIGTRAP):
            return "crash", f"the process died of {name}"
        if number == signal.SIGXCPU:
            return "timeout", "the process used up its CPU time (SIGXCPU)"
        if number == signal.SIGXFSZ:
            return "output", "the process wrote a file larger than allowed (SIGXFSZ)"
        return "killed", f"the process was killed by {name}"
    if os.WIFEXITED(status):
        return "exit", f"the process exited with status {os.WEXITSTATUS(status)} instead of returning"
    return "killed", "the process stopped"


def _function_child(namespace: dict, functions: list[str], seed, write_fd: int, cpu_seconds: float,
                    before: dict) -> None:
    """F: probe `functions` one after another, framing a start and a result for each on write_fd. Never returns."""
    try:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        _cpu_limit(cpu_seconds + 1, cpu_seconds + 3)
        from autograder import probes
        for function in functions:
            _send(write_fd, {"event": "start", "function": function})
            try:
                payload = {"probe": probes.probe_function(namespace, function, seed)}
            except MemoryError:
                payload = {"error": "MemoryError while probing", "memory": True}
            except BaseException as error:  # the probe guards each call; this is the student breaking the probe
                payload = {"error": f"{type(error).__name__}: {str(error)[:300]}"}
            payload["tamper"] = _tampered(before)
            try:
                data = json.dumps(payload).encode()
            except (TypeError, ValueError) as error:
                data = json.dumps({"error": f"probe result is not plain numbers ({error})"}).encode()
            _send(write_fd, {"event": "result", "function": function}, data)
        os._exit(0)
    except BaseException:
        os._exit(70)


def _run_functions(namespace: dict, functions: list[str], seed, timeout: float, before: dict, report) -> None:
    """In S: probe `functions` in forks of S, each within `timeout` seconds; report(header, payload) each outcome.

    One fork probes the functions in turn while they behave; when one hangs,
    crashes or exits, that fork is killed, that function alone fails, and the
    functions after it get a fresh fork of S (the state after the top-level
    cells, untouched by the failure).
    """
    remaining = list(functions)
    while remaining:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _function_child(namespace, remaining, seed, write_fd, timeout * len(remaining), before)
        os.close(write_fd)
        buffer, current, started = b"", None, time.monotonic()
        deadline = started + STEP_SECONDS
        failure, detail = None, ""
        try:
            while remaining:
                now = time.monotonic()
                if now >= deadline:
                    failure = "timeout"
                    detail = f"no result within {timeout:g} s" if current else "the probe did not start"
                    break
                ready, _, _ = select.select([read_fd], [], [], deadline - now)
                if not ready:
                    continue
                chunk = os.read(read_fd, 1 << 16)
                if not chunk:
                    break
                buffer += chunk
                if len(buffer) > MAX_PAYLOAD + 65536:
                    failure, detail = "error", "the probe's result was far too large"
                    break
                while True:
                    parsed = _take_message(buffer)
                    if parsed is None:
                        break
                    header, payload, buffer = parsed
                    if header is False:
                        failure, detail = "error", "the probe's channel was written to by the student's code"
                        break
                    if header.get("event") == "start" and header.get("function") in remaining and current is None:
                        current, started = header["function"], time.monotonic()
                        deadline = started + timeout
                        report({"event": "start", "function": current})
                    elif header.get("event") == "result" and header.get("function") == current:
                        report({"event": "function", "function": current,
                                "seconds": round(time.monotonic() - started, 4)}, payload)
                        remaining.remove(current)
                        current, deadline = None, time.monotonic() + STEP_SECONDS
                if failure is not None:
                    break
        finally:
            os.close(read_fd)
        if not remaining:
            if _reap(pid, REAP_SECONDS) is None:
                _kill(pid)
                _reap(pid, REAP_SECONDS)
            return
        if failure is not None:
            _kill(pid)
        status = _reap(pid, REAP_SECONDS)
        if status is None:
            _kill(pid)
            status = _reap(pid, REAP_SECONDS)
            if failure is None:
                failure, detail = "killed", "the process closed its result pipe and did not exit"
        if failure is None:
            failure, detail = _describe_status(status or 0)
        if current is None:
            current = remaining[0]
            report({"event": "start", "function": current})
        report({"event": "function", "function": current, "failure": failure, "detail": detail,
                "seconds": round(time.monotonic() - started, 4)})
        remaining.remove(current)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(pid: int, seconds: float):
    """The wait status of child pid, or None if it has not ended within `seconds`."""
    deadline = time.monotonic() + seconds
    try:
        pidfd = os.pidfd_open(pid)       # readable when the process ends: no polling
    except (AttributeError, OSError):
        pidfd = None
    try:
        while True:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return 0
            if done:
                return status
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if pidfd is not None:
                select.select([pidfd], [], [], remaining)
            else:
                time.sleep(min(0.002, remaining))
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _send(fd: int, header: dict, payload: bytes = b"") -> None:
    header = dict(header, bytes=len(payload))
    _write_all(fd, json.dumps(header).encode() + b"\n" + payload)


def _display(*objects, **kwargs) -> None:
    """IPython's display() exists in every notebook kernel; outside one it shows nothing."""


def _submission_process(request: dict, scratch: str, message_fd: int, output_fd: int,
                        functions: list[str], limits: dict) -> None:
    """S: set limits, exec the cells once, then probe each function in its own fork. Never returns."""
    try:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        for fd in _open_fds():
            if fd > 2 and fd != message_fd:
                try:
                    os.close(fd)
                except OSError:
                    pass
        os.chdir(scratch)
        os.environ.update(HOME=scratch, TMPDIR=scratch)
        import tempfile
        tempfile.tempdir = scratch
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # an oversized file fails with EFBIG, not a kill
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        _apply_limits(limits, cpu_seconds=request["top_timeout"] + 2,
                      cpu_hard=max(request["top_timeout"], request["function_timeout"]) + 5)
        if limits.get("student_id") is not None:
            # From here on, no capability and not the worker's user.
            os.setgroups([])
            os.setgid(limits["student_id"])
            os.setuid(limits["student_id"])
            _prctl(PR_SET_DUMPABLE, 0)
        sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
        sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
        before = _watched()
        # Captured now: the student's code may patch os, select or json in this process.
        run_functions, send = _run_functions, _send
        namespace = {"__name__": "__main__", "__builtins__": builtins, "display": _display}
        errors = []
        started = time.monotonic()
        for index, source in enumerate(request["cells"]):
            try:
                code = compile(source, f"<cell {index + 1}>", "exec")
                exec(code, namespace)
            except BaseException as error:  # like a kernel: a failing cell does not stop the next
                if isinstance(error, MemoryError):
                    errors.append("MemoryError at top level")
                else:
                    errors.append(f"cell {index + 1}: {type(error).__name__}: {str(error)[:200]}")
        send(message_fd, {"event": "top", "errors": errors[:10],
                          "seconds": round(time.monotonic() - started, 4),
                          "tamper": _tampered(before)})
        run_functions(namespace, functions, request.get("seed"), request["function_timeout"], before,
                      lambda header, payload=b"": send(message_fd, header, payload))
        os._exit(0)
    except BaseException:
        os._exit(71)


def _apply_limits(limits: dict, cpu_seconds: float, cpu_hard: float) -> None:
    def set_limit(kind, value):
        value = int(value)
        try:
            soft, hard = resource.getrlimit(kind)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError):
            pass

    _cpu_limit(cpu_seconds, cpu_hard)
    set_limit(resource.RLIMIT_CORE, 0)
    set_limit(resource.RLIMIT_FSIZE, limits["fsize_mb"] * 1024 * 1024)
    set_limit(resource.RLIMIT_NOFILE, limits["nofile"])
    if limits.get("address_space"):
        set_limit(resource.RLIMIT_AS, limits["address_space"])
    if limits.get("nproc"):
        set_limit(resource.RLIMIT_NPROC, limits["nproc"])


def _cpu_limit(soft: float, hard: float) -> None:
    """CPU seconds: SIGXCPU at `soft`, SIGKILL at `hard` (never above the inherited hard limit)."""
    try:
        _, current_hard = resource.getrlimit(resource.RLIMIT_CPU)
        hard = int(hard) + 1
        if current_hard != resource.RLIM_INFINITY:
            hard = min(hard, current_hard)
        soft = min(max(1, int(soft) + 1), hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ValueError, OSError):
        pass


def _open_fds() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return list(range(3, 256))


# --- the worker -----------------------------------------------------------------------

class Worker:
    def __init__(self, result_fd: int, scratch_root: str, in_pid_namespace: bool, nproc_base: int,
                 student_id: int | None = None):
        self.result_fd = result_fd
        self.scratch_root = scratch_root
        self.in_pid_namespace = in_pid_namespace
        self.nproc_base = nproc_base
        self.student_id = student_id
        self.counter = 0
        self.base_address_space = _address_space()

    # Every process other than the worker (and the namespace's init) is the
    # submission's: in a PID namespace, all of them; otherwise the worker's
    # descendants (orphans come back to it, the subreaper).
    def _others(self) -> list[int]:
        me = os.getpid()
        parents = {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            pid = int(name)
            if pid == me or pid == 1:
                continue
            if self.in_pid_namespace:
                parents[pid] = None
                continue
            try:
                with open(f"/proc/{pid}/stat", "rb") as handle:
                    stat = handle.read()
                parents[pid] = int(stat[stat.rindex(b")") + 2:].split()[1])
            except (OSError, ValueError, IndexError):
                continue
        if self.in_pid_namespace:
            return list(parents)
        mine, frontier = set(), {me}
        while frontier:
            frontier = {pid for pid, parent in parents.items() if parent in frontier and pid not in mine}
            mine |= frontier
        return sorted(mine)

    def kill_all(self) -> int:
        """SIGKILL every process the submission left, until none is left; returns how many there were."""
        killed: set[int] = set()
        for _ in range(200):
            self._reap_zombies()
            others = [pid for pid in self._others() if not _is_zombie(pid)]
            if not others:
                break
            if self.in_pid_namespace:
                # Alone in the namespace with the students' processes (all of our uid):
                # one call reaches all of them, however fast they fork.
                try:
                    os.kill(-1, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            for pid in others:
                killed.add(pid)
                _kill(pid)
            time.sleep(0.001)
        self._reap_zombies()
        return len(killed)

    @staticmethod
    def _reap_zombies() -> None:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    def serve(self) -> None:
        _send_line(self.result_fd, {"ready": True, "pid": os.getpid(), "uid": os.getuid(),
                                    "student_uid": self.student_id if self.student_id is not None else os.getuid(),
                                    "pid_namespace": self.in_pid_namespace})
        for line in sys.stdin.buffer:
            if not line.strip():
                continue
            try:
                request = json.loads(line)
            except json.JSONDecodeError as error:
                _send_line(self.result_fd, {"error": f"bad request: {error}"})
                continue
            if request.get("quit"):
                break
            try:
                answer = self.grade(request)
            except Exception as error:  # a bug here must not take the worker down silently
                self.kill_all()
                answer = {"id": request.get("id"), "error": f"worker: {type(error).__name__}: {error}"}
            _send_line(self.result_fd, answer)

    def grade(self, request: dict) -> dict:
        started = time.monotonic()
        request = dict(request)
        for key, value in DEFAULTS.items():
            request.setdefault(key, value)
        limits = {key: request[key] for key in ("memory_mb", "fsize_mb", "nofile")}
        limits["address_space"] = self.base_address_space + int(request["memory_mb"]) * 1024 * 1024
        limits["nproc"] = self.nproc_base + int(request["nproc"]) if self.nproc_base >= 0 else 0
        limits["student_id"] = self.student_id
        functions = list(request["functions"])
        answer = {"id": request.get("id"), "functions": {}, "top": None, "tamper": []}
        output = {"bytes": 0, "head": b""}
        attempts = 0
        while (functions or attempts == 0) and attempts <= len(request["functions"]):
            attempts += 1
            self.counter += 1
            scratch = os.path.join(self.scratch_root, f"s{self.counter}")
            os.makedirs(scratch, mode=0o700)
            if self.student_id is not None:
                os.chown(scratch, self.student_id, self.student_id)
            try:
                functions = self._attempt(request, scratch, functions, limits, answer, output)
            finally:
                answer["leftover_processes"] = answer.get("leftover_processes", 0) + self.kill_all()
                _cleanup(self.scratch_root, sandboxed=self.in_pid_namespace)
        if self.in_pid_namespace and _ipc_left():
            # SysV IPC objects outlive their processes, and the worker may not
            # remove the student's: ask for a fresh sandbox before the next student.
            answer["restart"] = True
        answer["output"] = {"bytes": output["bytes"],
                            "head": output["head"].decode("utf-8", "replace"),
                            "limit": request["output_limit"]}
        answer["seconds"] = round(time.monotonic() - started, 4)
        return answer

    def _attempt(self, request, scratch, functions, limits, answer, output) -> list[str]:
        """One S: exec the cells, probe `functions` in order. Returns the functions left unprobed."""
        message_r, message_w = os.pipe()
        output_r, output_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(message_r)
            os.close(output_r)
            _submission_process(request, scratch, message_w, output_w, functions, limits)
        os.close(message_w)
        os.close(output_w)
        # Readable when S exits: S's pipes may stay open in processes it started.
        exited = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None
        buffer = b""
        pending = list(functions)
        current = None          # the function S is probing
        phase_deadline = time.monotonic() + request["top_timeout"] + 1.0
        grace = 2.0
        open_fds = {message_r, output_r} | ({exited} if exited is not None else set())
        top_seen = False        # this S has run the top-level cells
        s_gone = False
        first_attempt = answer["top"] is None
        status = None
        try:
            while message_r in open_fds and (pending or not top_seen):
                now = time.monotonic()
                if now >= phase_deadline:
                    if current is None and not top_seen:
                        if first_attempt:
                            answer["top"] = {"failure": "timeout", "errors": [],
                                             "detail": f"top-level cells ran longer than {request['top_timeout']:g} s"}
                        for function in pending:
                            answer["functions"][function] = {"failure": "timeout", "detail": "top-level code did not finish"}
                        return []
                    if current is not None:
                        answer["functions"][current] = {"failure": "timeout",
                                                        "detail": f"no result within {request['function_timeout']:g} s"}
                        pending.remove(current)
                    return pending
                wait = 0 if s_gone else min(0.5, phase_deadline - now)
                ready, _, _ = select.select(list(open_fds), [], [], wait)
                if exited is not None and exited in ready:
                    # S is gone: read what it sent before it went (no more waiting), then stop.
                    open_fds.discard(exited)
                    s_gone = True
                    continue
                if s_gone and message_r not in ready:
                    break
                if output_r in ready:
                    chunk = _read(output_r)
                    if chunk:
                        output["bytes"] += len(chunk)
                        if len(output["head"]) < OUTPUT_HEAD:
                            output["head"] += chunk[:OUTPUT_HEAD - len(output["head"])]
                    else:
                        open_fds.discard(output_r)
                if message_r in ready:
                    chunk = _read(message_r)
                    if not chunk:
                        open_fds.discard(message_r)
                        break
                    buffer += chunk
                    if len(buffer) > MAX_PAYLOAD + 65536:
                        break
                    while True:
                        parsed = _take_message(buffer)
                        if parsed is None:
                            break
                        header, payload, buffer = parsed
                        if header is False:     # not our framing: the student wrote into the channel
                            open_fds.discard(message_r)
                            break
                        event = header.get("event")
                        if event == "top":
                            top_seen = True
                            if first_attempt:
                                answer["top"] = {"failure": None, "errors": header.get("errors", [])[:10],
                                                 "seconds": header.get("seconds")}
                            answer["tamper"] = sorted(set(answer["tamper"]) | set(header.get("tamper", [])[:20]))
                            phase_deadline = time.monotonic() + STEP_SECONDS
                        elif event == "start" and header.get("function") in pending:
                            current = header["function"]
                            phase_deadline = time.monotonic() + request["function_timeout"] + grace
                        elif event == "function" and header.get("function") == current:
                            answer["functions"][current] = _function_answer(header, payload, answer)
                            pending.remove(current)
                            current = None
                            phase_deadline = time.monotonic() + STEP_SECONDS
            # S ended or closed its channel.
            status = _reap(pid, REAP_SECONDS)
            if status is None:
                _kill(pid)
                status = _reap(pid, REAP_SECONDS) or 0
            failure, detail = _describe_status(status)
            if status == 0 and not pending:
                return []
            if not top_seen:
                if first_attempt:
                    answer["top"] = {"failure": failure, "errors": [], "detail": f"top-level code: {detail}"}
                for function in pending:
                    answer["functions"][function] = {"failure": failure, "detail": "top-level code did not finish"}
                return []
            if current is not None:
                answer["functions"][current] = {"failure": failure, "detail": detail}
                pending.remove(current)
            return pending
        finally:
            if status is None:
                _kill(pid)
                _reap(pid, REAP_SECONDS)
            # Drain what is left of the output, without waiting for processes that keep it open.
            while output_r in open_fds:
                ready, _, _ = select.select([output_r], [], [], 0)
                if not ready:
                    break
                chunk = _read(output_r)
                if not chunk:
                    break
                output["bytes"] += len(chunk)
            os.close(message_r)
            os.close(output_r)
            if exited is not None:
                os.close(exited)


def _function_answer(header: dict, payload: bytes, answer: dict) -> dict:
    if header.get("failure"):
        return {"failure": header["failure"], "detail": str(header.get("detail", ""))[:300],
                "seconds": header.get("seconds")}
    try:
        data = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {"failure": "error", "detail": "the probe's result was not JSON"}
    if not isinstance(data, dict):
        return {"failure": "error", "detail": "the probe's result was not a JSON object"}
    answer["tamper"] = sorted(set(answer["tamper"]) | {str(t) for t in data.get("tamper", [])[:20]})
    if "probe" not in data:
        return {"failure": "memory" if data.get("memory") else "error",
                "detail": str(data.get("error", "no probe"))[:300], "seconds": header.get("seconds")}
    return {"probe": data["probe"], "seconds": header.get("seconds")}


def _take_message(buffer: bytes):
    """(header, payload, rest) from the framed channel; None if incomplete; (False, ...) if garbage."""
    newline = buffer.find(b"\n")
    if newline < 0:
        return None if len(buffer) < 65536 else (False, b"", b"")
    try:
        header = json.loads(buffer[:newline])
        size = int(header.get("bytes", 0))
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError, TypeError, ValueError):
        return False, b"", b""
    if size < 0 or size > MAX_PAYLOAD:
        return False, b"", b""
    end = newline + 1 + size
    if len(buffer) < end:
        return None
    return header, buffer[newline + 1:end], buffer[end:]


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 1 << 16)
    except OSError:
        return b""


def _ipc_left() -> bool:
    """True when the sandbox's IPC namespace holds SysV shared memory, semaphores or message queues."""
    for kind in ("shm", "sem", "msg"):
        try:
            with open(f"/proc/sysvipc/{kind}") as handle:
                if len(handle.read().splitlines()) > 1:
                    return True
        except OSError:
            pass
    return False


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
        return stat[stat.rindex(b")") + 2:stat.rindex(b")") + 3] in (b"Z", b"X")
    except (OSError, ValueError):
        return True


def _mount_points() -> list[str]:
    try:
        with open("/proc/self/mountinfo") as handle:
            return [line.split()[4] for line in handle]
    except (OSError, IndexError):
        return []


def _cleanup(scratch_root: str, sandboxed: bool) -> None:
    """Empty the scratch root and, in the sandbox, its private /tmp and /dev/shm, whatever the student left."""
    keep = {os.path.abspath(scratch_root), MPLCONFIG}
    # A course kept under /tmp has its virtualenv and package bound into the
    # sandbox's /tmp: the folders leading to those mounts are the grader's.
    mounts = _mount_points() if sandboxed else []
    for root in [scratch_root] + (["/tmp", "/dev/shm"] if sandboxed else []):
        try:
            entries = os.listdir(root)
        except OSError:
            continue
        for name in entries:
            path = os.path.join(root, name)
            if path in keep or any(m == path or m.startswith(path + "/") for m in mounts):
                continue
            try:
                if os.path.isdir(path) and not os.path.islink(path):
                    _make_writable(path)
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.unlink(path)
            except OSError:
                pass


def _make_writable(path: str) -> None:
    """A student may chmod 000 their folders; the owner can always chmod back."""
    for directory, subdirs, _ in os.walk(path):
        for name in subdirs:
            try:
                os.chmod(os.path.join(directory, name), 0o700)
            except OSError:
                pass
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass


def _address_space() -> int:
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _send_line(fd: int, message: dict) -> None:
    _write_all(fd, json.dumps(message).encode() + b"\n")


def _count_processes_of(uid: int) -> int:
    count = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--result-fd", type=int, default=3)
    parser.add_argument("--scratch", default="/tmp/scratch", help="folder for the per-submission scratch folders")
    parser.add_argument("--student-id", type=int, metavar="ID",
                        help="run student code as this uid and gid (the worker itself stays its namespace's root, "
                             "so student processes can neither signal nor trace it)")
    parser.add_argument("--pid-namespace", action="store_true",
                        help="the worker runs in its own PID namespace: every other process in it is the student's")
    args = parser.parse_args(argv)

    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if args.student_id is not None:
        # Made by the worker: students can read matplotlib's config and font cache, not change them.
        os.makedirs(MPLCONFIG, mode=0o755, exist_ok=True)
        os.environ["MPLCONFIGDIR"] = MPLCONFIG
    _warm_up()
    # Not dumpable: processes of the same uid (students, when the worker cannot
    # run as another user) cannot ptrace the worker or open its /proc files.
    _prctl(PR_SET_DUMPABLE, 0)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    os.makedirs(args.scratch, mode=0o700, exist_ok=True)
    if args.student_id is not None:
        os.chown(args.scratch, args.student_id, args.student_id)
    if args.pid_namespace and os.getpid() > 2:
        args.pid_namespace = False      # not really alone: fall back to descendants
    # RLIMIT_NPROC counts every process of the uid: the student's own user in
    # the sandbox has no others; unsandboxed, the user's other processes count too.
    if args.student_id is not None or args.pid_namespace:
        nproc_base = 0
    elif os.getuid() == 0:
        nproc_base = -1  # not enforced for root: do not pretend
    else:
        nproc_base = _count_processes_of(os.getuid())
    worker = Worker(args.result_fd, args.scratch, args.pid_namespace, nproc_base, args.student_id)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    worker.serve()
    worker.kill_all()
    return 0


def _warm_up() -> None:
    """Import and run once what every submission needs, so that each fork starts warm.

    The probes run once on the reference answers: lazy initialisation in
    torch, numpy and the probes then happens here, once, not in every fork.
    """
    import gc
    import numpy  # noqa: F401
    import torch
    torch.set_num_threads(1)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401  (builds the font cache once, not per student)
    from autograder import probes, reference, spec
    try:
        import autograder.checks  # noqa: F401
    except ImportError:
        pass

    def sgd(x, y, m, b, lr=0.01, epochs=1000):
        for _ in range(epochs):
            m, b = m - lr * namespace["dC_dm"](x, y, m, b), b - lr * namespace["dC_db"](x, y, m, b)
        return m, b

    namespace = {"dC_dyhat": reference.dC_dyhat, "dC_dm": reference.dC_dm, "dC_db": reference.dC_db, "sgd": sgd}
    for function in spec.FUNCTIONS:
        try:
            probes.probe_function(namespace, function)
        except Exception:  # warming up is an optimisation only
            pass
    # Objects that exist now are never collected: the collector then does not
    # touch (and copy) their pages in every fork.
    gc.collect()
    gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
