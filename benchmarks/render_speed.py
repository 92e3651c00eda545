"""How fast each scene renders against how long its video runs.

    PYTHONHASHSEED=0 .venv/bin/python benchmarks/render_speed.py [SCENE...] [--quality low]

Each scene renders in its own process (as ``msegrad render`` does), so the
time includes starting Python, importing Manim and torch, and building the
scene. The goal at low quality (480p15) is a ratio of at most 0.5. "render s"
is wall-clock time; "cpu s" is the CPU time the render process used, which
stays put when other jobs share the machine and wall-clock time does not.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from animations.render import SCENE_NAMES, render  # noqa: E402

GOAL_RATIO = 0.5


def video_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if stream.duration is not None:
            return float(stream.duration * stream.time_base)
        return container.duration / av.time_base


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenes", nargs="*", default=list(SCENE_NAMES))
    parser.add_argument("--quality", default="low", choices=("low", "medium", "high"))
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="msegrad-bench-") as media:
        for name in args.scenes:
            cpu_before = _children_cpu()
            start = time.perf_counter()
            (path,) = render([name], args.quality, Path(media), progress=False)
            seconds = time.perf_counter() - start
            rows.append((name, seconds, _children_cpu() - cpu_before, video_seconds(path)))
    load = os.getloadavg()[0]
    print(f"{'scene':<22}{'render s':>10}{'cpu s':>8}{'video s':>10}{'ratio':>8}{'cpu ratio':>11}")
    for name, seconds, cpu, video in rows:
        flag = "" if seconds / video <= GOAL_RATIO else "  (over the goal)"
        print(f"{name:<22}{seconds:>10.1f}{cpu:>8.1f}{video:>10.1f}{seconds / video:>8.2f}{cpu / video:>11.2f}{flag}")
    print(f"({os.cpu_count()} CPUs, load average {load:.1f} at the end)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
