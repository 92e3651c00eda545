"""Per-submission cgroups: made, capped, counted and removed, or an honest reason why not."""
from __future__ import annotations

import os
import time

import pytest

from autograder.isolation import cgroups


def test_open_gives_cgroups_or_a_reason():
    made, reason = cgroups.open_cgroups(f"msegrad-test-{os.getpid()}")
    try:
        assert (made is None) == bool(reason)
        if made is None:
            assert "cgroup" in reason
    finally:
        if made is not None:
            made.close()


def test_a_slot_caps_a_child_and_is_removed_after():
    made, reason = cgroups.open_cgroups(f"msegrad-test-{os.getpid()}-slot")
    if made is None:
        pytest.skip(f"no cgroup here: {reason}")
    try:
        slot = made.slot(64 * 1024 * 1024, 8)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.read(read_fd, 1)                     # wait to be moved in
            try:
                block = bytearray(256 * 1024 * 1024)
                for index in range(0, len(block), 4096):
                    block[index] = 1
            finally:
                os._exit(0)
        slot.enter(pid)
        os.write(write_fd, b"g")
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == 9      # the kernel's OOM kill
        assert slot.events()["oom_kills"] >= 1
        time.sleep(0.05)
        made.release(slot)
        assert not any(folder.exists() for folder in slot.folders)
    finally:
        made.close()
    assert not any(home.exists() for home in made.homes)


def test_descendants_are_found_nearest_first():
    pid = os.fork()
    if pid == 0:
        child = os.fork()
        if child == 0:
            time.sleep(5)
            os._exit(0)
        os.waitpid(child, 0)
        os._exit(0)
    try:
        deadline = time.monotonic() + 5
        while len(cgroups.descendants(os.getpid())) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        found = cgroups.descendants(os.getpid())
        assert found[0] == pid and len(found) >= 2
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
