"""Per-submission caps on memory and processes, across every process of the submission (trusted side).

Resource limits (``setrlimit``) are per process: four children of one
submission could each take the whole memory limit. A cgroup caps them
together. The grader makes one cgroup per submission under its own, moves
the sandbox's zygote into it just long enough to fork the submission's
first process (children are born in their parent's cgroup), moves it back,
and afterwards reads whether the kernel had to kill for memory, then removes
the cgroup.

cgroup v1 (separate ``memory`` and ``pids`` hierarchies, as root here) and
v2 (one unified hierarchy, where the grader's own cgroup already delegates
``memory`` and ``pids`` to its children, e.g. a systemd user slice with
``Delegate=yes``) are both supported. Where neither can be written,
``open_cgroups`` says why, and the grader flags every row ``no-cgroup``.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


class CgroupError(OSError):
    pass


def _own_paths() -> dict[str, str]:
    """{controller or '' for v2: path of this process's cgroup} from /proc/self/cgroup."""
    paths = {}
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                paths[controller] = path
    except (OSError, ValueError):
        pass
    return paths


def _write(path: Path, value) -> None:
    with open(path, "w") as handle:
        handle.write(str(value))


class Slot:
    """One submission's cgroup(s)."""

    def __init__(self, folders: list[Path], version: int):
        self.folders = folders
        self.version = version

    def enter(self, pid: int) -> None:
        for folder in self.folders:
            _write(folder / "cgroup.procs", pid)

    def open_procs(self) -> list[int]:
        """Write ends of the slot's cgroup.procs: the submission's first process writes "0" to move itself."""
        return [os.open(folder / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC) for folder in self.folders]

    def events(self) -> dict:
        """Kernel counts for this submission: OOM kills, forks refused at the process cap."""
        found = {"oom_kills": 0, "pids_refused": 0}
        for folder in self.folders:
            for name, key, word in (("memory.oom_control", "oom_kills", "oom_kill"),
                                    ("memory.events", "oom_kills", "oom_kill"),
                                    ("pids.events", "pids_refused", "max")):
                try:
                    for line in (folder / name).read_text().splitlines():
                        parts = line.split()
                        if len(parts) == 2 and parts[0] == word:
                            found[key] = max(found[key], int(parts[1]))
                except (OSError, ValueError):
                    pass
        return found

    def remove(self, seconds: float = 1.0) -> bool:
        """Remove the cgroups once their processes are gone; False if some are still busy."""
        deadline = time.monotonic() + seconds
        left = list(self.folders)
        while left:
            for folder in list(left):
                try:
                    folder.rmdir()
                    left.remove(folder)
                except FileNotFoundError:
                    left.remove(folder)
                except OSError:
                    pass
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        return not left


class Cgroups:
    """The grader's cgroup(s) for one sandbox: the zygote's home and one slot per submission."""

    def __init__(self, homes: list[Path], version: int):
        self.homes = homes
        self.version = version
        self.count = 0
        self.stale: list[Slot] = []

    def home_enter(self, pid: int) -> None:
        for home in self.homes:
            _write((home / "zygote" if self.version == 2 else home) / "cgroup.procs", pid)

    def slot(self, memory_bytes: int, pids: int) -> Slot:
        self.count += 1
        folders = []
        for home in self.homes:
            folder = home / f"s{self.count}"
            folder.mkdir()
            folders.append(folder)
            if (folder / "memory.limit_in_bytes").exists():        # v1, the memory hierarchy
                _write(folder / "memory.limit_in_bytes", memory_bytes)
            if (folder / "memory.max").exists():                   # v2
                _write(folder / "memory.max", memory_bytes)
            if (folder / "memory.swap.max").exists():
                _write(folder / "memory.swap.max", 0)
            if (folder / "pids.max").exists():
                _write(folder / "pids.max", pids)
        return Slot(folders, self.version)

    def release(self, slot: Slot) -> None:
        """Remove the slot now if its processes are gone, else with a later one (never waits)."""
        self.stale = [old for old in self.stale + [slot] if not old.remove(0)]

    def close(self) -> None:
        for slot in self.stale:
            slot.remove(2.0)
        for home in self.homes:
            for folder in sorted(home.glob("s*")) + ([home / "zygote"] if self.version == 2 else []):
                try:
                    folder.rmdir()
                except OSError:
                    pass
            try:
                home.rmdir()
            except OSError:
                pass


def open_cgroups(label: str) -> tuple[Cgroups | None, str]:
    """Cgroups for one sandbox, or (None, why not)."""
    own = _own_paths()
    reasons = []
    if (ROOT / "memory").is_dir() and (ROOT / "pids").is_dir() and "memory" in own and "pids" in own:
        homes = []
        try:
            for controller in ("memory", "pids"):
                home = ROOT / controller / own[controller].lstrip("/") / label
                home.mkdir()
                homes.append(home)
            return Cgroups(homes, 1), ""
        except OSError as error:
            for home in homes:
                try:
                    home.rmdir()
                except OSError:
                    pass
            reasons.append(f"cgroup v1 is not writable here ({error.strerror})")
    if (ROOT / "cgroup.controllers").exists() and "" in own:
        parent = ROOT / own[""].lstrip("/")
        try:
            delegated = (parent / "cgroup.subtree_control").read_text().split()
        except OSError:
            delegated = []
        if not {"memory", "pids"} <= set(delegated):
            reasons.append(f"cgroup v2: {parent} does not delegate memory and pids to its children")
        else:
            home = parent / label
            try:
                home.mkdir()
                _write(home / "cgroup.subtree_control", "+memory +pids")
                (home / "zygote").mkdir()
                return Cgroups([home], 2), ""
            except OSError as error:
                try:
                    (home / "zygote").rmdir()
                    home.rmdir()
                except OSError:
                    pass
                reasons.append(f"cgroup v2 is not writable at {parent} ({error.strerror})")
    if not reasons:
        reasons.append("no cgroup file system with memory and pids controllers")
    return None, "; ".join(reasons)


def descendants(pid: int) -> list[int]:
    """Every descendant of pid, nearest first (from /proc)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
            parent = int(stat[stat.rindex(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(name))
    found, frontier = [], [pid]
    while frontier:
        frontier = [child for parent in frontier for child in children.get(parent, [])]
        found += frontier
    return found
