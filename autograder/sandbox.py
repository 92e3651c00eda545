"""The sandbox the student's code runs in: bubblewrap around a warm zygote.

One ``Sandbox`` is one ``python -m autograder.worker`` (torch imported once)
inside ``bwrap``, serving submissions one after another. The zygote never
sees a submission: per submission the grader hands it two fresh pipes over
its control socket, the zygote forks, and only that fork reads the request
and writes the answer (see ``autograder.worker`` for the process tree and
the submission's own namespaces, and docs/security.md for the threat model).
Every submission gets its own cgroup for memory and processes where one can
be had (``autograder.isolation.cgroups``). What the sandbox gives:

- its own PID, IPC, UTS and network namespaces: no network at all (loopback
  is the sandbox's own and is down), no process outside is visible, and when
  the sandbox ends every process in it ends (``--die-with-parent``, PID 1);
- a file system of read-only system folders (/usr, /etc, ...), the Python
  installation, the virtualenv and the part of the ``autograder`` package
  the worker runs (``SANDBOX_MODULES``: no reference math, no case
  settings, no judge), and nothing else: the course directory (solutions, gradebook, other students' work),
  home folders and the submissions are not there; /tmp and /dev/shm are
  small private tmpfs;
- an unprivileged user. Run as root, the grader maps the sandbox's user to
  ``nobody`` (uid 65534) outside, in a user namespace it sets up itself:
  bwrap's own ``--unshare-user`` would map it to root outside, and the kernel
  does not enforce RLIMIT_NPROC for root (nor deny root-only files). Run as
  another user, bwrap's user namespace maps it to that user.

Where bwrap cannot run (not Linux, no bwrap, no user namespaces), the worker
runs as a plain child process with the same resource limits; ``sandboxed``
is False, the grader warns once and flags every row ``unsandboxed``.
"""
from __future__ import annotations

import atexit
import ctypes
import fcntl
import json
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
# The sandbox's user inside its namespace, and whom it is outside when the grader is root.
SANDBOX_ID = 1000
NOBODY = 65534
# Private tmpfs sizes: the student's scratch folder lives in /tmp.
TMP_SIZE = 64 * 1024 * 1024
SHM_SIZE = 8 * 1024 * 1024
# The worker imports torch before it is ready (matplotlib comes later): ~1.5 s here, more on a busy machine.
START_SECONDS = 120.0
SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
# The modules of the package that exist inside the sandbox: the worker, the
# probe engine and what it needs, and the data the release imports. What
# computes right answers (reference, cases, judge, mistakes) is not there.
SANDBOX_MODULES = ("__init__.py", "config.py", "data.py", "inputs.py", "probes.py", "spec.py", "worker.py",
                   "isolation/__init__.py", "isolation/seccomp.py", "assignments/__init__.py")
# The worker never reads course.toml (hidden from it, or closed to nobody): what
# it needs of it comes in the request (autograder.config.NO_FILE).
WORKER_ENV = {"MSEGRAD_CONFIG": "-"}


def worker_env() -> dict:
    """WORKER_ENV, and the probes of every assignment of the course for the zygote to warm up."""
    from autograder import assignments
    return {**WORKER_ENV, "MSEGRAD_PROBES": ",".join(f"{unit.package}.probes" for unit in assignments.every())}


def sandbox_files() -> list[str]:
    """SANDBOX_MODULES and every assignment unit's spec, data and probes (docs/assignments.md)."""
    from autograder import assignments
    files = list(SANDBOX_MODULES)
    for unit in assignments.every():
        files += [name for name in unit.sandbox_files(package_dir()) if name not in files]
    return files
# matplotlib's font list, which `import matplotlib.pyplot` otherwise builds in every new sandbox by
# opening each system font (seconds): this user's copy from matplotlib's cache, read-only at
# FONT_LIST_DIR, which the worker copies into its own cache (FONT_LIST_ENV names the folder).
FONT_LIST_DIR = "/run/msegrad-fonts"
FONT_LIST_ENV = "MSEGRAD_FONT_LIST"
# The grader's answer from the sandbox is a few hundred kilobytes; nothing near this is one.
MAX_ANSWER = 16 * 1024 * 1024
# The zygote forks within this (milliseconds, unless the machine is stalled).
FORK_SECONDS = 30.0


class SandboxError(RuntimeError):
    """The sandbox could not be started."""


@dataclass
class Mode:
    """How workers run: 'bwrap-root', 'bwrap-user' or 'none' (with the reason when not sandboxed)."""

    name: str
    reason: str = ""

    @property
    def sandboxed(self) -> bool:
        return self.name != "none"


@dataclass
class Options:
    """What the sandbox must hide and where its Python comes from."""

    hide: list[str] = field(default_factory=list)   # host paths that must not be visible (course dir, inputs)
    python: str = sys.executable
    env: dict = field(default_factory=dict)          # extra environment for the worker


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def choose_mode(want: str = "auto") -> Mode:
    """The best isolation available here. want: 'auto', 'bwrap' (fail if impossible) or 'none'."""
    if want == "none":
        return Mode("none", "isolation turned off (--no-sandbox)")
    reason = ""
    if not sys.platform.startswith("linux"):
        reason = f"bubblewrap needs Linux, this is {sys.platform}"
    elif shutil.which("bwrap") is None:
        reason = "bwrap is not installed (Debian: apt-get install bubblewrap; scripts/system-packages.sh)"
    else:
        name = "bwrap-root" if os.geteuid() == 0 else "bwrap-user"
        problem = _try_bwrap(name)
        if problem is None:
            return Mode(name)
        reason = problem
    if want == "bwrap":
        raise SandboxError(f"cannot sandbox: {reason}")
    return Mode("none", reason)


_TRIED: dict[str, str | None] = {}


def _try_bwrap(name: str) -> str | None:
    """None if a bwrap sandbox of this kind starts here, else why not (cached per process)."""
    if name in _TRIED:
        return _TRIED[name]
    argv = bwrap_command(name, ["/bin/true"], Options(python=sys.executable))
    try:
        process = _spawn(name, argv, stdin=None, result_w=None, log=subprocess_log())
        status = _wait(process.pid, 20.0)
        log = process.read_log()
        problem = None if status == 0 else f"bwrap failed: {log.strip() or f'status {status}'}"
    except (OSError, SandboxError) as error:
        problem = f"bwrap failed: {error}"
    _TRIED[name] = problem
    return problem


def subprocess_log():
    return tempfile.TemporaryFile(prefix="msegrad-sandbox-", suffix=".log")


def _is_under(path: str, roots) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def package_dir() -> str:
    import autograder
    return str(Path(autograder.__file__).resolve().parent)


_STAGED: dict[str, str] = {}


def staged_package() -> str:
    """A read-only copy of sandbox_files(), bound in the sandbox where the package is (made once per run)."""
    source = package_dir()
    if source in _STAGED and os.path.isdir(_STAGED[source]):
        return _STAGED[source]
    root = tempfile.mkdtemp(prefix="msegrad-package-")
    os.chmod(root, 0o755)
    target = os.path.join(root, "autograder")
    for name in sandbox_files():
        destination = os.path.join(target, name)
        os.makedirs(os.path.dirname(destination), mode=0o755, exist_ok=True)
        shutil.copyfile(os.path.join(source, name), destination)
        os.chmod(destination, 0o644)
    for directory, _, _ in os.walk(target):
        os.chmod(directory, 0o755)
    fonts = _font_lists()
    if fonts:
        os.mkdir(os.path.join(root, "fonts"), 0o755)
        for path in fonts:
            shutil.copyfile(path, os.path.join(root, "fonts", os.path.basename(path)))
            os.chmod(os.path.join(root, "fonts", os.path.basename(path)), 0o644)
    atexit.register(shutil.rmtree, root, True)
    _STAGED[source] = target
    return target


def staged_fonts() -> str | None:
    """The staged copy of matplotlib's font list (next to the staged package), or None."""
    folder = os.path.join(os.path.dirname(staged_package()), "fonts")
    return folder if os.path.isdir(folder) else None


def _font_lists() -> list[str]:
    """matplotlib's font lists in this user's matplotlib cache (where matplotlib keeps them on Linux)."""
    folder = os.environ.get("MPLCONFIGDIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "matplotlib")
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [os.path.join(folder, name) for name in names
            if name.startswith("fontlist-v") and name.endswith(".json") and os.path.isfile(os.path.join(folder, name))]


def bind_paths(python: str) -> list[str]:
    """Host folders the worker needs besides the system ones: Python, the virtualenv, this package."""
    paths = []
    for path in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                 os.path.dirname(os.path.dirname(os.path.realpath(python))),
                 os.path.dirname(os.path.dirname(python)),
                 package_dir()):
        real = os.path.realpath(path)
        for candidate in {path, real}:
            if candidate and candidate != "/" and candidate not in paths:
                paths.append(candidate)
    return paths


def bwrap_command(mode: str, command: list[str], options: Options) -> list[str]:
    """The bwrap argument list for `command` (a list starting with the program)."""
    argv = ["bwrap", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session"]
    if mode == "bwrap-root":
        # The user and network namespaces already exist (see _spawn). The
        # zygote stays the namespace's root with just the capabilities to
        # make each submission's process SANDBOX_ID (nobody outside); those
        # capabilities reach nothing outside the namespace.
        argv += ["--cap-drop", "ALL"]
        for capability in ("CAP_SETUID", "CAP_SETGID"):
            argv += ["--cap-add", capability]
    else:
        argv += ["--unshare-user", "--unshare-net", "--uid", str(SANDBOX_ID), "--gid", str(SANDBOX_ID)]
    bound: list[str] = []
    for directory in SYSTEM_DIRS:
        if os.path.islink(directory):
            argv += ["--symlink", os.readlink(directory), directory]
        elif os.path.isdir(directory):
            argv += ["--ro-bind", directory, directory]
            bound.append(directory)
    argv += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(TMP_SIZE), "--perms", "1777", "--tmpfs", "/tmp",
             "--size", str(SHM_SIZE), "--perms", "1777", "--tmpfs", "/dev/shm"]
    # Anything to hide that a system bind exposed is covered by an empty tmpfs.
    for path in options.hide:
        real = os.path.realpath(path)
        if any(_is_under(directory, [real]) for directory in SYSTEM_DIRS):
            continue   # never hide / or a system folder itself (e.g. a course run from /)
        if _is_under(real, bound):
            argv += ["--tmpfs", real]
    made: set[str] = set(bound) | {"/tmp", "/dev", "/proc"}
    package = package_dir()
    for path in bind_paths(options.python):
        if not os.path.exists(path):
            continue
        if path != package and _is_under(path, bound) and not _is_under(os.path.realpath(path), options.hide):
            continue
        # bwrap makes missing parents 0700: make them 0755 so the sandbox user can traverse them.
        parents = []
        parent = os.path.dirname(path)
        while parent not in ("/", "") and parent not in made and not _is_under(parent, bound):
            parents.append(parent)
            parent = os.path.dirname(parent)
        for directory in reversed(parents):
            argv += ["--perms", "0755", "--dir", directory]
            made.add(directory)
        argv += ["--ro-bind", staged_package() if path == package else path, path]
        made.add(path)
    fonts = staged_fonts()
    if fonts is not None:
        argv += ["--ro-bind", fonts, FONT_LIST_DIR]
    # The sandbox's own root (a tmpfs bwrap made) is read-only too: only /tmp and /dev/shm take writes.
    argv += ["--remount-ro", "/", "--chdir", "/tmp", "--clearenv"]
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp",
           "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
    if fonts is not None:
        env[FONT_LIST_ENV] = FONT_LIST_DIR
    env.update(worker_env())
    env.update(options.env)
    for key, value in env.items():
        argv += ["--setenv", key, str(value)]
    return argv + ["--"] + command


# Isolated mode (-I) ignores $PYTHONPATH and the current folder: the worker imports the
# same autograder package as the grader (its folder is bound in the sandbox), wherever it lies.
_WORKER_MAIN = ("import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); "
                "runpy.run_module('autograder.worker', run_name='__main__', alter_sys=True)")


def worker_command(mode: str, python: str) -> list[str]:
    command = [python, "-I", "-c", _WORKER_MAIN, os.path.dirname(package_dir()), "--control-fd", "3"]
    if mode == "bwrap-root":
        command += ["--student-id", str(SANDBOX_ID)]
    return command


class _Process:
    def __init__(self, pid: int, log):
        self.pid = pid
        self.log = log

    def read_log(self, limit: int = 4000) -> str:
        try:
            self.log.seek(0)
            return self.log.read(limit).decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""


def _spawn(mode: str, argv: list[str], stdin: int | None, result_w: int | None, log) -> _Process:
    """Fork and exec argv with stdin, fd 3 = result_w, stdout to /dev/null, stderr to log.

    In 'bwrap-root' mode the child first enters new user and network
    namespaces whose maps the parent writes: the namespace's root is root
    outside (so bwrap can read the Python installation under /root and set up
    its mounts), SANDBOX_ID is `nobody` outside (the user the worker drops to).
    """
    unshare = _libc().unshare if mode == "bwrap-root" else None
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    devnull = os.open(os.devnull, os.O_RDWR)
    pid = os.fork()
    if pid == 0:  # the child: only fd juggling, a syscall and exec, then nothing Python-level
        try:
            fds = [stdin if stdin is not None else devnull, devnull, log.fileno(),
                   result_w if result_w is not None else devnull, ready_w, go_r]
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in fds]
            for target, fd in enumerate(high):
                os.dup2(fd, target)
            os.closerange(6, 65536)
            if unshare is not None:
                if unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
                    os.write(2, b"msegrad: unshare(CLONE_NEWUSER|CLONE_NEWNET) failed\n")
                    os._exit(126)
            os.write(4, b"u")
            if os.read(5, 1) != b"g":
                os._exit(126)
            os.close(4)
            os.close(5)
            os.execvp(argv[0], argv)
        except BaseException:
            pass
        os._exit(127)
    os.close(ready_w)
    os.close(go_r)
    os.close(devnull)
    try:
        if os.read(ready_r, 1) != b"u":
            raise SandboxError("the sandbox process did not start")
        if mode == "bwrap-root":
            try:
                with open(f"/proc/{pid}/uid_map", "w") as handle:
                    handle.write(f"0 0 1\n{SANDBOX_ID} {NOBODY} 1\n")
                # The child's gid is mapped straight to nobody's group: it never runs as group root.
                with open(f"/proc/{pid}/gid_map", "w") as handle:
                    handle.write(f"0 0 1\n{SANDBOX_ID} {NOBODY} 1\n")
            except OSError as error:
                raise SandboxError(f"cannot map the sandbox user ({error})") from None
        os.write(go_w, b"g")
    except BaseException:
        _kill_wait(pid)
        raise
    finally:
        os.close(ready_r)
        os.close(go_w)
    return _Process(pid, log)


def _wait(pid: int, seconds: float):
    deadline = time.monotonic() + seconds
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.005)


def _kill_wait(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


class WorkerDied(RuntimeError):
    """The worker ended or stopped answering in the middle of a request."""


def _line_from(fd: int, buffer: bytearray, deadline: float, limit: int, what: str) -> bytes:
    """One newline-terminated line from fd within the deadline (WorkerDied otherwise)."""
    while b"\n" not in buffer:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WorkerDied(f"no answer from {what} within the time limit")
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 1 << 20)
        except OSError as error:
            raise WorkerDied(f"{what}: {error}") from None
        if not chunk:
            raise WorkerDied(f"{what} ended")
        buffer += chunk
        if len(buffer) > limit:
            raise WorkerDied(f"{what}'s answer is far too large")
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return line


def parse_answer(line: bytes) -> dict:
    """The submission's answer, parsed with its size and nesting bounded (WorkerDied when refused)."""
    if line.count(b"[") + line.count(b"{") > 400_000:
        raise WorkerDied("the answer is nested far deeper or wider than any real one")
    try:
        answer = json.loads(line)
    except (ValueError, RecursionError, MemoryError) as error:
        raise WorkerDied(f"the answer is not JSON ({type(error).__name__})") from None
    if not isinstance(answer, dict):
        raise WorkerDied("the answer is not a JSON object")
    return answer


class Sandbox:
    """A warm zygote in a sandbox; ``request`` runs one submission in a fresh fork and returns its answer."""

    def __init__(self, mode: Mode, options: Options | None = None):
        self.mode = mode
        self.options = options or Options()
        self.process: _Process | None = None
        self.control: socket.socket | None = None
        self.buffer = bytearray()
        self.info: dict = {}
        self.starts = 0
        self.zygote_pid: int | None = None      # as this process sees it (for cgroups)
        self.cgroups = None
        self.cgroup_reason = "not started"

    @property
    def sandboxed(self) -> bool:
        return self.mode.sandboxed

    def start(self) -> None:
        from autograder.isolation import cgroups
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        command = worker_command(self.mode.name, self.options.python)
        if self.mode.sandboxed:
            argv = bwrap_command(self.mode.name, command, self.options)
        else:
            argv = ["env", "OMP_NUM_THREADS=1", "MKL_NUM_THREADS=1", "MPLBACKEND=Agg",
                    *(f"{key}={value}" for key, value in {**worker_env(), **self.options.env}.items())] + command
        log = subprocess_log()
        try:
            self.process = _spawn(self.mode.name, argv, None, theirs.fileno(), log)
        finally:
            theirs.close()
        self.control = ours
        self.buffer = bytearray()
        self.starts += 1
        try:
            self.info = self._control_reply(START_SECONDS)
        except WorkerDied:
            text = self.process.read_log()
            self.stop()
            raise SandboxError(f"the grading worker did not start: {text.strip()[-2000:] or 'no message'}") from None
        if not self.info.get("ready"):
            self.stop()
            raise SandboxError(f"the grading worker did not start: {self.info}")
        self.zygote_pid = self._find_zygote()
        self.cgroups, self.cgroup_reason = (None, "the zygote cannot be found") if self.zygote_pid is None \
            else cgroups.open_cgroups(f"msegrad-{os.getpid()}-{id(self):x}-{self.starts}")
        if self.cgroups is not None:
            try:
                self.cgroups.home_enter(self.zygote_pid)
            except OSError as error:
                self.cgroups.close()
                self.cgroups, self.cgroup_reason = None, f"cannot move the zygote into a cgroup ({error.strerror})"

    def _find_zygote(self) -> int | None:
        """The zygote's PID here: the process itself unsandboxed, else the descendant bwrap started."""
        from autograder.isolation import cgroups
        if not self.mode.sandboxed:
            return self.process.pid
        for pid in cgroups.descendants(self.process.pid):
            try:
                with open(f"/proc/{pid}/status") as handle:
                    nspid = next((line.split()[1:] for line in handle if line.startswith("NSpid:")), [])
            except OSError:
                continue
            if nspid and nspid[-1] == str(self.info.get("pid")) and len(nspid) > 1:
                return pid
        return None

    def _control_reply(self, timeout: float) -> dict:
        line = _line_from(self.control.fileno(), self.buffer, time.monotonic() + timeout, 65536, "the zygote")
        try:
            reply = json.loads(line)
        except ValueError:
            raise WorkerDied("the zygote's reply is not JSON") from None
        if not isinstance(reply, dict):
            raise WorkerDied("the zygote's reply is not a JSON object")
        return reply

    def request(self, message: dict, timeout: float) -> dict:
        """Run one submission in a fresh fork of the zygote; its answer, or WorkerDied.

        ``timeout`` is measured on this process's clock; past it the
        submission is killed, whatever it says. The answer carries
        ``cgroup`` (what the kernel counted for it, or why there is no
        cgroup): information from this side, not from the sandbox.
        """
        if self.process is None:
            self.start()
        slot, procs = None, []
        if self.cgroups is not None:
            try:
                memory = int(message.get("memory_mb", 1024)) * 1024 * 1024
                slot = self.cgroups.slot(memory, int(message.get("nproc", 32)))
                procs = slot.open_procs()
            except OSError as error:
                for fd in procs:
                    os.close(fd)
                slot, procs = None, []
                self.cgroup_reason = f"cgroup for the submission failed ({error.strerror})"
        request_r, request_w = os.pipe()
        answer_r, answer_w = os.pipe()
        manager = None
        try:
            try:
                socket.send_fds(self.control, [json.dumps({"fork": self.starts}).encode()],
                                [request_r, answer_w, *procs])
                reply = self._control_reply(FORK_SECONDS)
            except (OSError, WorkerDied) as error:
                self.stop()
                raise WorkerDied(str(error) or "the zygote ended") from None
            finally:
                for fd in (request_r, answer_w, *procs):
                    os.close(fd)
            manager = reply.get("pid")
            deadline = time.monotonic() + timeout
            try:
                data = json.dumps(message).encode()
                view = memoryview(data)
                while view:
                    view = view[os.write(request_w, view):]
            except OSError:
                pass        # the submission's process is gone: its answer (or none) says why
            finally:
                os.close(request_w)
                request_w = None
            try:
                answer = parse_answer(_line_from(answer_r, bytearray(), deadline, MAX_ANSWER, "the submission"))
            except WorkerDied:
                self._kill_manager(manager)
                raise
        finally:
            if request_w is not None:
                os.close(request_w)
            os.close(answer_r)
            if slot is not None:
                answer_events = slot.events()
                self.cgroups.release(slot)
        if slot is not None:
            answer["cgroup"] = answer_events
        else:
            answer["cgroup"] = {"none": self.cgroup_reason}
        return answer

    def _kill_manager(self, pid) -> None:
        if not isinstance(pid, int) or self.control is None:
            return
        try:
            self.control.sendall(json.dumps({"kill": pid}).encode())
            self._control_reply(5.0)
        except (OSError, WorkerDied):
            self.stop()

    def stop(self) -> None:
        """End the zygote and, with it, everything in the sandbox."""
        if self.process is not None:
            if self.control is not None:
                try:
                    self.control.sendall(b'{"quit": true}')
                except OSError:
                    pass
            if _wait(self.process.pid, 0.5) is None:
                _kill_wait(self.process.pid)
            try:
                self.process.log.close()
            except OSError:
                pass
            self.process = None
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.cgroups is not None:
            self.cgroups.close()
            self.cgroups = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False
