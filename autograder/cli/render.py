"""``msegrad render [SCENE...] --quality low|medium|high``: render the Manim videos.

Writes ``media/videos/<Scene>.mp4`` (or under ``--media-dir``) and prints the paths.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Kept here as well as in animations.render so that `--help` and name checks
# do not import Manim.
SCENE_NAMES = ("ChainRuleDerivation", "DescentTrajectory", "LearningRate", "GradientField", "MinibatchDescent")
QUALITIES = ("low", "medium", "high")


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "render", help="render the Manim videos",
        description="Render the course's Manim scenes to media/videos/<Scene>.mp4.")
    parser.add_argument("scenes", nargs="*", metavar="SCENE",
                        help=f"scenes to render (default: all): {', '.join(SCENE_NAMES)}")
    parser.add_argument("--quality", choices=QUALITIES, default="low",
                        help="low = 480p15, medium = 720p30, high = 1080p60 (default: low)")
    parser.add_argument("--media-dir", type=Path, default=None,
                        help="output root; videos go to MEDIA_DIR/videos (default: media/ in the repository)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="scenes rendered at once, each in its own process (default: 1)")
    return parser


def run(args: argparse.Namespace) -> int:
    unknown = [name for name in args.scenes if name not in SCENE_NAMES]
    if unknown:
        print(f"msegrad render: unknown scene{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}\n"
              f"valid scenes: {', '.join(SCENE_NAMES)}", file=sys.stderr)
        return 2
    from animations import render as renderer

    media_dir = args.media_dir if args.media_dir is not None else renderer.DEFAULT_MEDIA_DIR
    try:
        paths = renderer.render(args.scenes or None, args.quality, media_dir, jobs=args.jobs)
    except RuntimeError as error:
        print(f"msegrad render: {error}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0
