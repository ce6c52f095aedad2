"""What a test needs to tell a drawn figure from a blank one."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageStat


def drawn_share(path: Path) -> float:
    """The share of an image's pixels that are not (near) white: 0 for a blank page."""
    with Image.open(path) as image:
        grey = image.convert("L")
        inked = grey.point(lambda v: 255 if v < 235 else 0)
        return ImageStat.Stat(inked).mean[0] / 255


def assert_drawn(path: Path, minimum: float = 0.005) -> None:
    """The file is an image with something drawn on it."""
    assert path.is_file(), f"{path} was not written"
    share = drawn_share(path)
    assert share >= minimum, f"{path} is blank ({share:.4f} of its pixels drawn)"


def remote_references(html: str) -> list[str]:
    """src= and href= attributes that point off the page (http:, https:, //)."""
    import re

    return re.findall(r"""(?:src|href)\s*=\s*["']((?:https?:)?//[^"']+)""", html)
