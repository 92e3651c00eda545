"""Render the course's scenes to ``<media_dir>/videos/<Scene>.mp4``.

    .venv/bin/msegrad render [SCENE...] --quality low|medium|high

Each scene renders in its own Python process started with PYTHONHASHSEED=0,
so the same input gives the same video (Manim's output otherwise depends on
string hashing). LaTeX is cached in ``build/manim-tex``, outside the media
directory, and reused by every render.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MEDIA_DIR = REPO_ROOT / "media"
TEX_DIR = REPO_ROOT / "build" / "manim-tex"
# In the order the lessons show them; names are the files' names too.
SCENE_NAMES = ("ChainRuleDerivation", "DescentTrajectory", "LearningRate", "GradientField", "MinibatchDescent")
QUALITIES = {"low": "low_quality", "medium": "medium_quality", "high": "high_quality"}


class UnknownSceneError(ValueError):
    pass


def resolve(scenes: list[str] | None) -> list[str]:
    """The scene names to render, in the given order; all of them when ``scenes`` is empty."""
    if not scenes:
        return list(SCENE_NAMES)
    unknown = [name for name in scenes if name not in SCENE_NAMES]
    if unknown:
        raise UnknownSceneError(
            f"unknown scene{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"valid scenes: {', '.join(SCENE_NAMES)}")
    return list(dict.fromkeys(scenes))


def output_path(scene: str, media_dir: Path = DEFAULT_MEDIA_DIR) -> Path:
    return Path(media_dir) / "videos" / f"{scene}.mp4"


def render(scenes: list[str] | None = None, quality: str = "low", media_dir: Path = DEFAULT_MEDIA_DIR,
           *, progress: bool = True, jobs: int = 1, tex_dir: Path = TEX_DIR) -> list[Path]:
    """Render ``scenes`` (all when None) at ``quality``; return the video paths, in order.

    Each scene renders in a fresh interpreter with PYTHONHASHSEED=0, ``jobs``
    at a time. With ``progress`` and one job, Manim's progress bars show;
    otherwise one line per scene. Raises RuntimeError when a render fails.
    """
    if quality not in QUALITIES:
        raise ValueError(f"quality must be one of {', '.join(QUALITIES)}, got {quality!r}")
    names = resolve(scenes)
    media_dir = Path(media_dir).resolve()
    env = dict(os.environ, PYTHONHASHSEED="0")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    bars = progress and jobs == 1
    pending = list(enumerate(names, 1))
    running: list[tuple] = []  # (index, name, process, start time, log file)
    failures = []

    def start(i: int, name: str) -> None:
        command = [sys.executable, "-m", "animations.render", "--worker", name, "--quality", quality,
                   "--media-dir", str(media_dir), "--tex-dir", str(tex_dir)] + (["--progress"] if bars else [])
        if progress:
            print(f"[{i}/{len(names)}] {name} ({quality}) ...", flush=True)
        # without progress bars the worker's output goes to a file, shown only on failure
        log = None if bars else tempfile.TemporaryFile("w+")
        proc = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=log,
                                stderr=None if bars else subprocess.STDOUT, text=True)
        running.append((i, name, proc, time.perf_counter(), log))

    while pending or running:
        while pending and len(running) < max(1, jobs):
            start(*pending.pop(0))
        done = None
        while done is None:  # whichever finishes first
            done = next((job for job in running if job[2].poll() is not None), None)
            if done is None:
                time.sleep(0.1)
        running.remove(done)
        i, name, proc, began, log = done
        output = ""
        if log is not None:
            log.seek(0)
            output = log.read()
            log.close()
        path = output_path(name, media_dir)
        if proc.returncode != 0 or not path.exists():
            failures.append(f"rendering {name} failed (exit {proc.returncode})" + (f"\n{output}" if output else ""))
        elif progress:
            print(f"[{i}/{len(names)}] {name}: {time.perf_counter() - began:.1f} s -> {path}", flush=True)
    if failures:
        raise RuntimeError("\n".join(failures))
    return [output_path(name, media_dir) for name in names]


def render_here(name: str, quality: str, media_dir: Path, tex_dir: Path = TEX_DIR,
                progress: bool = False) -> Path:
    """Render one scene in this process (the worker's job; PYTHONHASHSEED should be 0)."""
    from manim import tempconfig

    from animations import scenes

    media_dir = Path(media_dir)
    scene_class = getattr(scenes, name)
    with tempfile.TemporaryDirectory(prefix="msegrad-render-") as scratch:
        settings = {
            "quality": QUALITIES[quality],
            "media_dir": scratch,
            "tex_dir": str(tex_dir),
            "video_dir": str(media_dir / "videos"),
            "partial_movie_dir": str(Path(scratch) / "partial"),
            "output_file": name,
            "disable_caching": True,
            # x264's default preset spends more time than drawing the frames does;
            # flat-colour graphics lose nothing visible at "veryfast" (same crf)
            "video_encoder_options": {"preset": "veryfast"},
            "write_to_movie": True,
            "verbosity": "WARNING",
            "progress_bar": "display" if progress else "none",
        }
        with tempconfig(settings):
            scene_class().render()
    return output_path(name, media_dir)


def _worker(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m animations.render")
    parser.add_argument("--worker", required=True, choices=SCENE_NAMES)
    parser.add_argument("--quality", default="low", choices=QUALITIES)
    parser.add_argument("--media-dir", type=Path, default=DEFAULT_MEDIA_DIR)
    parser.add_argument("--tex-dir", type=Path, default=TEX_DIR)
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args(argv)
    if os.environ.get("PYTHONHASHSEED") != "0":
        print("warning: PYTHONHASHSEED is not 0; the video may differ from run to run", file=sys.stderr)
    render_here(args.worker, args.quality, args.media_dir, args.tex_dir, args.progress)
    return 0


if __name__ == "__main__":
    sys.exit(_worker(sys.argv[1:]))
