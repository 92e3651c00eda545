"""``make demo``'s steps, in the order they need each other (without running nbgrader or Manim)."""
from autograder import demo


def test_videos_are_rendered_before_the_lessons_that_embed_them_are_exported(tmp_path, monkeypatch):
    from animations import render
    from course import export

    order = []
    monkeypatch.setattr(render, "render", lambda **kwargs: order.append("videos") or [])
    monkeypatch.setattr(export, "main", lambda argv: order.append("lessons") or 0)
    demo.media_demo(tmp_path)
    assert order == ["videos", "lessons"]
