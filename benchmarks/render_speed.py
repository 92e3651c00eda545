"""How fast each scene renders against how long its video runs.

    PYTHONHASHSEED=0 .venv/bin/python benchmarks/render_speed.py [SCENE...] [--quality low]

Each scene renders in its own process (as ``msegrad render`` does), so the
time includes starting Python, importing Manim and torch, and building the
scene. The goal at low quality (480p15) is a ratio of at most 0.5.
"""
from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenes", nargs="*", default=list(SCENE_NAMES))
    parser.add_argument("--quality", default="low", choices=("low", "medium", "high"))
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="msegrad-bench-") as media:
        for name in args.scenes:
            start = time.perf_counter()
            (path,) = render([name], args.quality, Path(media), progress=False)
            seconds = time.perf_counter() - start
            rows.append((name, seconds, video_seconds(path)))
    print(f"{'scene':<22}{'render s':>10}{'video s':>10}{'ratio':>8}")
    for name, seconds, video in rows:
        flag = "" if seconds / video <= GOAL_RATIO else "  (over the goal)"
        print(f"{name:<22}{seconds:>10.1f}{video:>10.1f}{seconds / video:>8.2f}{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
