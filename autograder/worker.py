"""The processes inside the sandbox: ``python -m autograder.worker``.

One warm process tree per sandbox; a submission never meets another's data::

    zygote   imports torch and the probes once, then only forks. It never
             receives a submission: its control socket carries fork commands
             and two file descriptors each, nothing else, so every fork of it
             starts from a heap that no student's data ever touched.
      M      one per submission, forked by the zygote: reads the submission's
             request from its own pipe, becomes the student's user, enters new
             user, mount, IPC, UTS, network and PID namespaces, and mounts a
             fresh /tmp and /dev/shm (tmpfs with a size and an inode cap, owned
             by the student, gone with the namespace)
        I    PID 1 of that PID namespace: mounts its /proc, runs the attempts,
             checks every frame S sends, writes the one answer to the grader
          S  runs the notebook's cells once as the student: no capability,
             the seccomp filter (autograder.isolation.seccomp), resource limits
            F  forks of S that probe the functions in turn (probe_function),
               framing a JSON result per function back to S through a pipe

Only I writes the answer pipe; S and F hold no descriptor of it, cannot name
I, M or the zygote (PID namespace), cannot trace them (seccomp, not dumpable)
and cannot outlive I (when PID 1 of a namespace ends, the kernel kills every
process in it). What S sends is hostile input: I takes one result per
function, in order, sizes and nesting bounded, times from its own clock.

The worker never judges: it reports the plain numbers the probes recorded
and what went wrong, and the grader (``autograder.batch``) decides the
points outside the sandbox, from the submission's source and those numbers.
"""
from __future__ import annotations

import argparse
import builtins
import ctypes
import errno
import json
import os
import re
import resource
import select
import signal
import socket
import sys
import time

# Set before torch is imported: one thread per process (two sandboxes share
# two cores) and no fork-unsafe thread pool in the children.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND = 1, 2, 4, 8, 32, 4096
MS_REC, MS_PRIVATE = 0x4000, 1 << 18
MNT_DETACH = 2

# One function's probe (all its cells) is tens of kilobytes; anything near
# this is not a probe. Nesting is counted before parsing: a few hundred
# brackets for a real probe, and a megabyte of "[" would cost the parser
# hundreds of megabytes.
MAX_PAYLOAD = 4 * 1024 * 1024
MAX_BRACKETS = 200_000
# A request holds the cells (the notebook's code) and every case's inputs.
MAX_REQUEST = 64 * 1024 * 1024
# The start of the student's output kept for the feedback, in all and per cell.
OUTPUT_HEAD = 4096
CELL_OUTPUT_HEAD = 2048
MAX_CELLS = 500
# S writes this to its output after each top-level cell, so I can tell which
# cell printed what (a student who prints it only garbles their own feedback).
CELL_END = b"\x00msegrad-cell-end\x00"
# S waits for F's exit this long after F closed its pipe or was killed.
REAP_SECONDS = 2.0
# S has this long between messages outside student code (after the top-level
# cells, between functions): a fork and a flush, milliseconds unless S is broken.
STEP_SECONDS = 5.0

DEFAULTS = {
    "top_timeout": 30.0,       # wall seconds for all top-level cells
    "function_timeout": 60.0,  # wall seconds for one function's probe (all its cells)
    "call_seconds": 10.0,      # wall seconds for one call of a student's function inside it
    "memory_mb": 1024,         # address space beyond the warm worker's own
    "nproc": 32,               # processes of the submission (its own user namespace)
    "fsize_mb": 16,            # largest file a student may write
    "nofile": 256,             # open files
    "output_limit": 1024 * 1024,  # bytes of printed output before the `output` flag
    "tmp_mb": 64,              # the submission's /tmp
    "shm_mb": 8,               # the submission's /dev/shm
    "inodes": 4096,            # files and folders in each of them
}

_libc = ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> int:
    return _libc.prctl(option, ctypes.c_ulong(value), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))


def _errno_text() -> str:
    number = ctypes.get_errno()
    return errno.errorcode.get(number, str(number))


# --- M: the submission's namespaces ---------------------------------------------------------

def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def _mount_tmpfs(target: str, size_mb: int, inodes: int, uid: int, gid: int) -> None:
    options = f"size={int(size_mb)}m,nr_inodes={int(inodes)},mode=0700,uid={uid},gid={gid}".encode()
    if _libc.mount(b"tmpfs", target.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options) != 0:
        raise OSError(f"mount tmpfs on {target}: {_errno_text()}")


# The sandbox's own mounts under /tmp or /dev/shm (a course kept under /tmp has its virtualenv
# and package bound there), held open so that each fresh tmpfs can have them bound back.
_KEPT: list[tuple[str, int]] | None = None


def _mounts_under(roots: tuple[str, ...]) -> list[str]:
    found = []
    try:
        with open("/proc/self/mountinfo") as handle:
            for line in handle:
                point = line.split()[4].replace("\\040", " ")
                if any(point.startswith(root + "/") for root in roots):
                    found.append(point)
    except (OSError, IndexError):
        pass
    return sorted(set(found), key=lambda point: point.count("/"))


def fresh_scratch(request: dict) -> None:
    """A new, empty /tmp and /dev/shm for the submission (inside its mount namespace).

    What the sandbox had bound below them (the course's virtualenv, when the
    course lives under /tmp) is bound back, read-only, from descriptors
    opened before the first fresh tmpfs hid it.
    """
    global _KEPT
    if _KEPT is None:
        _KEPT = [(point, os.open(point, os.O_PATH | os.O_CLOEXEC)) for point in _mounts_under(("/tmp", "/dev/shm"))]
    uid, gid = os.getuid(), os.getgid()
    for target, size in (("/tmp", request["tmp_mb"]), ("/dev/shm", request["shm_mb"])):
        _libc.umount2(target.encode(), MNT_DETACH)    # the previous attempt's, if any
        _mount_tmpfs(target, size, request["inodes"], uid, gid)
    for point, fd in _KEPT:
        os.makedirs(point, mode=0o755, exist_ok=True)
        source = f"/proc/self/fd/{fd}".encode()
        if _libc.mount(source, point.encode(), None, MS_BIND | MS_REC, None) != 0:
            raise OSError(f"bind {point} back: {_errno_text()}")
        _libc.mount(None, point.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)


def isolate(request: dict, student_id: int | None) -> dict:
    """In M: become the student and enter the submission's own namespaces. Returns what was achieved.

    Runs before any student code; raises nothing. When the namespaces cannot
    be had (no user namespaces here), the submission still runs, and the
    answer says so: the grader flags the row.
    """
    try:
        if student_id is not None:          # root mode: the student is `nobody` outside
            os.setgroups([])
            os.setgid(student_id)
            os.setuid(student_id)
    except OSError as error:
        return {"namespaces": False, "reason": f"cannot become the student's user ({error})"}
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWPID
    if _libc.unshare(flags) != 0:
        return {"namespaces": False, "reason": f"unshare: {_errno_text()}"}
    try:
        _prctl(PR_SET_DUMPABLE, 1)      # a process that is not dumpable cannot write its own maps
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1\n")
        _write("/proc/self/gid_map", f"{gid} {gid} 1\n")
        if _libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
            raise OSError(f"make mounts private: {_errno_text()}")
        fresh_scratch(request)
    except OSError as error:
        return {"namespaces": False, "reason": str(error)}
    finally:
        _prctl(PR_SET_DUMPABLE, 0)
    return {"namespaces": True}


def _drop_capabilities() -> None:
    """S: no capability at all, not even inside the submission's own user namespace."""
    for capability in range(64):
        if _prctl(PR_CAPBSET_DROP, capability) != 0 and ctypes.get_errno() == errno.EINVAL:
            break
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)     # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()                     # effective, permitted, inheritable: twice 32 bits, all 0
    number = {"x86_64": 126, "aarch64": 91}.get(os.uname().machine)
    if number is not None:
        _libc.syscall(number, header, data)


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
    units = [name for name in list(modules) if name.startswith("autograder.assignments.")]
    for name in (*_WATCHED_WHOLE, *units):
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


def _function_child(namespace: dict, functions: list[str], cases: dict, write_fd: int, cpu_seconds: float,
                    before: dict) -> None:
    """F: probe `functions` one after another, framing a start and a result for each on write_fd. Never returns."""
    try:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        _cpu_limit(cpu_seconds + 1, cpu_seconds + 3)
        import importlib
        probes = importlib.import_module(PROBES_MODULE)
        for function in functions:
            _send(write_fd, {"event": "start", "function": function})
            try:
                payload = {"probe": probes.probe_function(namespace, function, cases)}
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


def _run_functions(namespace: dict, functions: list[str], cases: dict, timeout: float, before: dict, report) -> None:
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
            _function_child(namespace, remaining, cases, write_fd, timeout * len(remaining), before)
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
    """S: set limits, drop every privilege, exec the cells once, then probe each function in its own fork.

    Never returns.
    """
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
        try:   # the memory cgroup's killer takes the student's processes first, never I or M
            _write("/proc/self/oom_score_adj", "1000")
        except OSError:
            pass
        _apply_limits(limits, cpu_seconds=request["top_timeout"] + 2,
                      cpu_hard=max(request["top_timeout"], request["function_timeout"]) + 5)
        _drop_capabilities()
        _prctl(PR_SET_DUMPABLE, 0)
        from autograder.isolation import seccomp
        seccomp.install()
        sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
        sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
        before = _watched()
        # Captured now: the student's code may patch os, select or json in this process.
        run_functions, send, write_all = _run_functions, _send, _write_all
        cases = request.get("cases") or {}
        namespace = {"__name__": "__main__", "__builtins__": builtins, "display": _display}
        errors = []
        for index, source in enumerate(request["cells"]):
            error_text = None
            try:
                code = compile(source, f"<cell {index + 1}>", "exec")
                exec(code, namespace)
            except BaseException as error:  # like a kernel: a failing cell does not stop the next
                if isinstance(error, MemoryError):
                    error_text = "MemoryError at top level"
                else:
                    error_text = f"cell {index + 1}: {type(error).__name__}: {str(error)[:200]}"
                errors.append(error_text)
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
            try:
                write_all(1, CELL_END)
            except OSError:
                pass
            send(message_fd, {"event": "cell", "index": index, "error": error_text})
        send(message_fd, {"event": "top", "errors": errors[:10], "tamper": _tampered(before)})
        run_functions(namespace, functions, cases, request["function_timeout"], before,
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


# --- I: one submission's attempts, in its own PID namespace --------------------------------------

def parse_bounded(data: bytes):
    """json.loads for bytes from student code: size and nesting checked first; ValueError when refused."""
    if len(data) > MAX_PAYLOAD:
        raise ValueError(f"{len(data):,} bytes, more than {MAX_PAYLOAD:,}")
    if data.count(b"[") + data.count(b"{") > MAX_BRACKETS:
        raise ValueError("nested far deeper or wider than any probe")
    try:
        return json.loads(data)
    except (RecursionError, MemoryError, UnicodeDecodeError) as error:
        raise ValueError(type(error).__name__) from None


def _text(value, limit: int = 300) -> str:
    return str(value)[:limit]


class Attempts:
    """I's work for one submission: run S (again after a crash, for the functions left), collect one answer.

    ``own_namespace``: I is PID 1 of a PID namespace holding only this
    submission, with its own /tmp; otherwise (namespaces refused here) the
    submission's processes are I's descendants and its scratch a folder.
    """

    def __init__(self, request: dict, own_namespace: bool, base_address_space: int):
        self.request = request
        self.own_namespace = own_namespace
        self.base_address_space = base_address_space

    def kill_all(self) -> int:
        """SIGKILL every process of the submission but I; returns how many there were."""
        if self.own_namespace:
            return self._kill_namespace()
        killed = 0
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            others = self._descendants()
            if not others:
                break
            killed = max(killed, len(others))
            for pid in others:
                _kill(pid)
            self._reap_zombies()
            time.sleep(0.001)
        self._reap_zombies()
        return killed

    @staticmethod
    def _kill_namespace() -> int:
        """As PID 1: kill(-1) reaches everyone in the namespace but I, and every orphan becomes I's child.

        So when waitpid has no child left, the namespace holds I alone; /proc
        is not needed (it may be the sandbox's, showing processes outside).
        """
        reaped = 0
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            try:
                os.kill(-1, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                pid, _ = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            reaped += 1
        return reaped

    def _descendants(self) -> list[int]:
        me = os.getpid()
        parents = {}
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) == me:
                continue
            try:
                with open(f"/proc/{name}/stat", "rb") as handle:
                    stat = handle.read()
            except OSError:
                continue
            if stat[stat.rindex(b")") + 2:stat.rindex(b")") + 3] in (b"Z", b"X"):
                continue
            parents[int(name)] = int(stat[stat.rindex(b")") + 2:].split()[1])
        mine, frontier = set(), {me}
        while frontier:
            frontier = {pid for pid, parent in parents.items() if parent in frontier and pid not in mine}
            mine |= frontier
        return sorted(mine)

    @staticmethod
    def _reap_zombies() -> None:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    def _scratch(self) -> str:
        if self.own_namespace:
            fresh_scratch(self.request)
            os.mkdir("/tmp/scratch", 0o700)
            return "/tmp/scratch"
        import tempfile
        return tempfile.mkdtemp(prefix="msegrad-scratch-")

    def grade(self) -> dict:
        request = self.request
        limits = {key: request[key] for key in ("memory_mb", "fsize_mb", "nofile")}
        limits["address_space"] = self.base_address_space + int(request["memory_mb"]) * 1024 * 1024
        limits["nproc"] = int(request["nproc"]) if self.own_namespace else 0
        functions = list(request["functions"])
        answer = {"functions": {}, "top": None, "tamper": [], "cells": [], "seconds": {}}
        output = {"bytes": 0, "head": b""}
        attempts = 0
        started = time.monotonic()
        while (functions or attempts == 0) and attempts <= len(request["functions"]):
            attempts += 1
            scratch = None
            try:
                scratch = self._scratch()
                functions = self._attempt(scratch, functions, limits, answer, output)
            except OSError as error:
                answer["error"] = f"the submission's scratch could not be made ({error})"
                break
            finally:
                answer["leftover_processes"] = answer.get("leftover_processes", 0) + self.kill_all()
                if scratch and not self.own_namespace:
                    import shutil
                    shutil.rmtree(scratch, ignore_errors=True)
        answer["output"] = {"bytes": output["bytes"], "head": output["head"].decode("utf-8", "replace"),
                            "limit": request["output_limit"]}
        answer["attempts"] = attempts
        answer["wall_seconds"] = round(time.monotonic() - started, 4)
        return answer

    def _attempt(self, scratch, functions, limits, answer, output) -> list[str]:
        """One S: exec the cells, probe `functions` in order. Returns the functions left unprobed."""
        request = self.request
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
        attempt_started = time.monotonic()
        function_started = attempt_started
        phase_deadline = attempt_started + request["top_timeout"] + 1.0
        grace = 2.0
        open_fds = {message_r, output_r} | ({exited} if exited is not None else set())
        top_seen = False        # this S has run the top-level cells
        s_gone = False
        first_attempt = answer["top"] is None
        cells = answer["cells"] if first_attempt else []

        cell_errors: dict[int, str | None] = {}
        splitter = _CellOutputs(collect=first_attempt)

        def read_output(chunk: bytes) -> None:
            chunk = splitter.feed(chunk)
            output["bytes"] += len(chunk)
            if len(output["head"]) < OUTPUT_HEAD:
                output["head"] += chunk[:OUTPUT_HEAD - len(output["head"])]

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
                        answer["seconds"][current] = round(now - function_started, 4)
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
                        read_output(chunk)
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
                        if event == "cell" and not top_seen and first_attempt:
                            index, error = header.get("index"), header.get("error")
                            if isinstance(index, int) and 0 <= index < MAX_CELLS:
                                cell_errors[index] = _text(error) if error is not None else None
                        elif event == "top" and not top_seen:
                            top_seen = True
                            splitter.collect = False    # what the functions print belongs to no cell
                            if first_attempt:
                                errors = header.get("errors")
                                errors = [_text(e) for e in errors[:10]] if isinstance(errors, list) else []
                                answer["top"] = {"failure": None, "errors": errors,
                                                 "seconds": round(time.monotonic() - attempt_started, 4)}
                            tamper = header.get("tamper")
                            if isinstance(tamper, list):
                                answer["tamper"] = sorted(set(answer["tamper"]) | {_text(t, 80) for t in tamper[:20]})
                            phase_deadline = time.monotonic() + STEP_SECONDS
                        elif event == "start" and top_seen and current is None and pending \
                                and header.get("function") == pending[0]:
                            current = pending[0]
                            function_started = time.monotonic()
                            phase_deadline = function_started + request["function_timeout"] + grace
                        elif event == "function" and current is not None and header.get("function") == current:
                            answer["functions"][current] = _function_answer(header, payload, answer)
                            answer["seconds"][current] = round(time.monotonic() - function_started, 4)
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
                answer["seconds"][current] = round(time.monotonic() - function_started, 4)
                pending.remove(current)
            return pending
        finally:
            if first_attempt:
                texts = splitter.texts()
                for index in range(min(len(request["cells"]), MAX_CELLS)):
                    cells.append({"output": texts[index] if index < len(texts) else "",
                                  "error": cell_errors.get(index)})
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


class _CellOutputs:
    """Splits S's output at the CELL_END markers: each top-level cell's head, and the output without markers."""

    def __init__(self, collect: bool):
        self.collect = collect
        self.cells: list[bytes] = []
        self.current = bytearray()
        self.carry = b""            # the start of a marker cut off at the end of a chunk

    def feed(self, chunk: bytes) -> bytes:
        data, self.carry = self.carry + chunk, b""
        clean = bytearray()
        while (at := data.find(CELL_END)) >= 0:
            self._keep(data[:at])
            clean += data[:at]
            if self.collect and len(self.cells) < MAX_CELLS:
                self.cells.append(bytes(self.current))
            self.current.clear()
            data = data[at + len(CELL_END):]
        cut = next((size for size in range(min(len(CELL_END) - 1, len(data)), 0, -1)
                    if CELL_END.startswith(data[-size:])), 0)
        self.carry = data[len(data) - cut:] if cut else b""
        body = data[:len(data) - cut]
        self._keep(body)
        clean += body
        return bytes(clean)

    def _keep(self, data: bytes) -> None:
        if self.collect:
            self.current += data[:max(0, CELL_OUTPUT_HEAD - len(self.current))]

    def texts(self) -> list[str]:
        """Each finished cell's output, then what the cell that did not finish printed."""
        done = [text.decode("utf-8", "replace") for text in self.cells]
        return done + [bytes(self.current).decode("utf-8", "replace")]


FAILURE_WORDS = ("crash", "timeout", "killed", "exit", "output", "memory", "error")


def _function_answer(header: dict, payload: bytes, answer: dict) -> dict:
    if header.get("failure"):
        failure = str(header["failure"])
        return {"failure": failure if failure in FAILURE_WORDS else "error", "detail": _text(header.get("detail", ""))}
    try:
        data = parse_bounded(payload)
    except ValueError as error:
        return {"failure": "error", "detail": f"the probe's result was refused ({error})"}
    if not isinstance(data, dict):
        return {"failure": "error", "detail": "the probe's result was not a JSON object"}
    tamper = data.get("tamper")
    if isinstance(tamper, list):
        answer["tamper"] = sorted(set(answer["tamper"]) | {_text(t, 80) for t in tamper[:20]})
    if not isinstance(data.get("probe"), dict):
        return {"failure": "memory" if data.get("memory") is True else "error",
                "detail": _text(data.get("error", "no probe"))}
    return {"probe": data["probe"]}


def _take_message(buffer: bytes):
    """(header, payload, rest) from the framed channel; None if incomplete; (False, ...) if garbage."""
    newline = buffer.find(b"\n")
    if newline < 0:
        return None if len(buffer) < 65536 else (False, b"", b"")
    try:
        header = parse_bounded(buffer[:newline])
        size = int(header.get("bytes", 0))
    except (ValueError, AttributeError, TypeError, OverflowError):
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


def _address_space() -> int:
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


# The probes module of the assignment being graded: one unit's (docs/assignments.md), set per request.
PROBES_MODULE = "autograder.probes"
_PROBES_NAME = re.compile(r"autograder(\.[A-Za-z_][A-Za-z0-9_]*)*\.probes")
# The probes the zygote warms up: every assignment of the course (the grader sets it).
WARM_PROBES = "MSEGRAD_PROBES"


def _send_line(fd: int, message: dict) -> None:
    _write_all(fd, json.dumps(message).encode() + b"\n")


def _read_request(fd: int) -> dict:
    chunks, size = [], 0
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        size += len(chunk)
        if size > MAX_REQUEST:
            raise ValueError("request too large")
        chunks.append(chunk)
    request = json.loads(b"".join(chunks))
    for key, value in DEFAULTS.items():
        request.setdefault(key, value)
    # The course's file is hidden in the sandbox: the grader sends the bound on one call.
    from autograder import probes
    probes.set_call_seconds(float(request["call_seconds"]))
    # Which assignment's probes run the checks (the grader names its unit's module).
    global PROBES_MODULE
    module = request.get("probes", PROBES_MODULE)
    if not isinstance(module, str) or not _PROBES_NAME.fullmatch(module):
        raise ValueError(f"not a probes module: {str(module)[:80]!r}")
    PROBES_MODULE = module
    return request


def _manager(request_fd: int, answer_fd: int, cgroup_fds: list[int], student_id: int | None,
             base_address_space: int) -> None:
    """M: enter the submission's cgroup, read the submission, isolate it, run I as PID 1, wait. Never returns."""
    code = 0
    try:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        # The grader opened the submission's cgroup.procs files: "0" moves this process,
        # and everything it starts is born there.
        moved = True
        for fd in cgroup_fds:
            try:
                os.write(fd, b"0")
            except OSError:
                moved = False
            os.close(fd)
        try:
            request = _read_request(request_fd)
        except (OSError, ValueError) as error:
            _send_line(answer_fd, {"error": f"bad request: {error}"})
            os._exit(0)
        finally:
            os.close(request_fd)
        # The grader may ask for no namespaces (its tests of the fallback where the kernel refuses them).
        isolation = isolate(request, student_id) if request.get("namespaces", True) else \
            {"namespaces": False, "reason": "not asked for"}
        isolation["cgroup"] = moved if cgroup_fds else None
        pid = os.fork()
        if pid == 0:
            _init(request, answer_fd, isolation, base_address_space)
        os.close(answer_fd)
        while True:
            try:
                os.waitpid(pid, 0)
                break
            except ChildProcessError:
                break
            except InterruptedError:
                continue
    except BaseException:
        code = 70
    os._exit(code)


def _init(request: dict, answer_fd: int, isolation: dict, base_address_space: int) -> None:
    """I: PID 1 of the submission's namespace (when there is one). Writes the one answer. Never returns."""
    try:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        own = bool(isolation.get("namespaces"))
        if not own:     # orphans (setsid daemons) come back to I, which then finds and kills them
            _prctl(PR_SET_CHILD_SUBREAPER, 1)
        if own:
            # This namespace's /proc: the student sees only its own processes. The
            # kernel refuses it where the sandbox's /proc is partly covered (bwrap as
            # root): the student then sees the sandbox's few processes and can reach
            # none of them (another PID namespace, another user, not dumpable).
            if _libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None) == 0:
                isolation = dict(isolation, proc="own")
            else:
                isolation = dict(isolation, proc=f"the sandbox's (mount: {_errno_text()})")
            try:
                _write("/proc/sys/user/max_user_namespaces", "0")
            except OSError:
                pass
        _prctl(PR_SET_DUMPABLE, 0)
        attempts = Attempts(request, own, base_address_space)
        try:
            answer = attempts.grade()
        except Exception as error:   # a bug here must still give the grader an answer
            answer = {"error": f"worker: {type(error).__name__}: {error}"}
        answer["isolation"] = isolation
        _send_line(answer_fd, answer)
        attempts.kill_all()
    except BaseException:
        os._exit(72)
    os._exit(0)


# --- the zygote ---------------------------------------------------------------------------------

def serve(control: socket.socket, student_id: int | None) -> None:
    """The zygote's loop: fork one M per command; never read a submission."""
    base_address_space = _address_space()
    children: set[int] = set()

    def reap(*_):      # at once, so that a finished submission's cgroup can be removed
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            children.discard(pid)

    signal.signal(signal.SIGCHLD, reap)
    warmed = False
    _send_line(control.fileno(), {"ready": True, "pid": os.getpid(), "uid": os.getuid(),
                                  "student_uid": student_id if student_id is not None else os.getuid()})
    # The rest of the warm-up (plotting, freezing the heap, huge pages) begins once the first command is
    # served and goes a step at a time while no command waits: the first submission need not wait for it.
    later = None
    while True:
        while later is not None and not select.select([control], [], [], 0)[0]:
            if not next(later, False):
                later = None
        try:
            message, fds, _, _ = socket.recv_fds(control, 4096, 4)
        except InterruptedError:
            continue
        except OSError:
            break
        reap()
        if not message:
            break
        try:
            command = json.loads(message)
        except ValueError:
            command = {}
        if command.get("fork") is not None and 2 <= len(fds) <= 4:
            pid = os.fork()
            if pid == 0:
                control.close()
                _manager(fds[0], fds[1], fds[2:], student_id, base_address_space)
            children.add(pid)
            reply = {"forked": command["fork"], "pid": pid}
        elif command.get("kill") in children:
            _kill(command["kill"])
            reply = {"killed": command["kill"]}
        elif command.get("quit"):
            break
        else:
            reply = {"error": "unknown command"}
        for fd in fds:
            os.close(fd)
        try:
            _send_line(control.fileno(), reply)
        except OSError:
            break
        if not warmed:
            later, warmed = _warm_up_later(), True
    for pid in children:
        _kill(pid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--control-fd", type=int, default=3, help="the Unix socket to the grader")
    parser.add_argument("--student-id", type=int, metavar="ID",
                        help="run student code as this uid and gid (the worker itself stays its namespace's root)")
    args = parser.parse_args(argv)

    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    _warm_up()
    # Not dumpable: processes of the same uid cannot trace the zygote or open its /proc files.
    _prctl(PR_SET_DUMPABLE, 0)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    control = socket.socket(fileno=args.control_fd)
    serve(control, args.student_id)
    return 0


def _warm_up() -> None:
    """Import what every submission needs and run the probes once, so that each fork starts warm.

    The probes run on the lecture's data with the model's own formulas
    standing in for a student: lazy initialisation in torch, numpy and the
    probes then happens here, once, not in every fork. What only some
    submissions need, or only makes forks cheaper, comes later
    (``_warm_up_later``).
    """
    import numpy  # noqa: F401
    import torch
    torch.set_num_threads(1)
    _font_list_into_cache()
    import importlib
    from autograder.isolation import seccomp  # noqa: F401  (imported once, not per student)
    for name in (os.environ.get(WARM_PROBES) or PROBES_MODULE).split(","):
        try:
            if _PROBES_NAME.fullmatch(name):
                importlib.import_module(name).warm_up()
        except Exception:  # warming up is an optimisation only
            pass


def _warm_up_later():
    """The rest of the warm-up, one step per ``next`` (each yields True), for ``serve`` to run between
    commands once the first submission is on its way (a submission forked before it simply does these
    things itself, if at all).

    1. matplotlib with its Agg backend and pyplot, for the submissions that plot (~0.4 s);
    2. the garbage collector's pass, then freezing what exists: objects that exist now are never
       collected, so the collector does not touch (and copy) their pages in every fork;
    3. the warm heap into huge pages, one at a time (``_collapse``).
    """
    import gc

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401  (builds the font cache once, not per student)
    yield True
    gc.collect()
    gc.freeze()
    yield True
    for piece in _heap_pieces():
        _collapse(*piece)
        yield True


# madvise(2): back a range with transparent huge pages now (Linux 6.1 and later).
MADV_COLLAPSE = 25
HUGE_PAGE = 2 * 1024 * 1024


def _heap_pieces() -> list[tuple[int, int]]:
    """The zygote's warm heap (~150 MB after torch) as (address, length) pieces of one huge page each, the
    last one first: what ``_collapse`` takes. Private writable memory with no file behind it: the heap and
    anonymous mappings."""
    try:
        with open("/proc/self/maps") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return []
    pieces = []
    for line in lines:
        parts = line.split()
        if len(parts) < 5 or parts[1][:2] != "rw" or parts[1][3:] != "p" or \
                (len(parts) > 5 and parts[5] != "[heap]"):
            continue
        low, high = (int(value, 16) for value in parts[0].split("-"))
        start, end = (low + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1), high & ~(HUGE_PAGE - 1)
        pieces += [(address, HUGE_PAGE) for address in range(start, end, HUGE_PAGE)]
    return pieces[::-1]


def _collapse(address: int, length: int) -> int:
    """Back [address, address + length) with huge pages now; the bytes collapsed (0 where the kernel refuses).

    Every fork copies the page tables of the memory it inherits and every
    exit tears them down: with 4 kB pages that is ~40,000 entries for the
    warm heap, ~10 ms of kernel time per process and four processes per
    submission; with 2 MB pages, a few hundred. A child that writes into one
    still copies only that 4 kB page (the kernel splits the huge mapping in
    the child), so nothing is shared that was not shared before. An
    optimisation only: where the kernel refuses (older kernels, huge pages
    off), nothing changes. 10 to 20 ms per huge page, so ``serve`` does it
    between commands.
    """
    madvise = _libc.madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    return length if madvise(address, length, MADV_COLLAPSE) == 0 else 0


def _collapse_heap() -> int:
    """The whole warm heap into huge pages at once; the bytes collapsed."""
    return sum(_collapse(address, length) for address, length in _heap_pieces())


def _font_list_into_cache() -> None:
    """The grader's copy of matplotlib's font list (read-only, where $MSEGRAD_FONT_LIST says) into a
    matplotlib cache of this sandbox's own, so that importing pyplot reads it instead of opening every
    system font. Without it matplotlib builds the list itself, as before."""
    import shutil
    import tempfile

    folder = os.environ.get("MSEGRAD_FONT_LIST")
    if not folder or not os.path.isdir(folder):
        return
    try:
        cache = tempfile.mkdtemp(prefix="matplotlib-")
        for name in os.listdir(folder):
            if name.startswith("fontlist-v") and name.endswith(".json"):
                shutil.copyfile(os.path.join(folder, name), os.path.join(cache, name))
    except OSError:
        return
    os.environ["MPLCONFIGDIR"] = cache


if __name__ == "__main__":
    sys.exit(main())
