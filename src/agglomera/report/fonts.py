"""CJK font discovery for the figures, and the font status for the report's methods section.

matplotlib's default font (DejaVu Sans) has no Chinese glyphs: Chinese labels would be
drawn as empty boxes. :func:`cjk_font` finds a CJK font once per process and registers it
explicitly with :meth:`matplotlib.font_manager.FontManager.addfont` (so it works whatever
matplotlib's font cache holds). The search order is

1. the file named by the environment variable ``AGGLOMERA_CJK_FONT`` (a ``.ttc``,
   ``.ttf`` or ``.otf`` path), when set;
2. the files of the usual Linux packages, Debian/Ubuntu ``fonts-noto-cjk`` first
   (``/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc``), then
   ``fonts-wqy-zenhei`` / ``fonts-wqy-microhei``;
3. the CJK families matplotlib already knows (Noto Sans/Serif CJK, Source Han, WenQuanYi,
   SimHei, Microsoft YaHei, PingFang, ...);
4. any file matching ``*CJK*``, ``*SourceHan*``, ``wqy*`` or ``simhei.ttf`` under the
   system font folders (regular weights first).

A candidate is accepted only if it has a glyph for 中 (U+4E2D). From a font collection
(``.ttc``) every face is registered and the Simplified-Chinese face (``... CJK SC``) is
preferred.

:func:`apply_fonts` applies the font to every text of a figure, with DejaVu Sans as
fallback. When no CJK font exists, figures are still drawn (Chinese glyphs as boxes) and
:func:`font_status` records a warning naming the figure; nothing is printed.
On Debian/Ubuntu install the font with ``apt-get install fonts-noto-cjk``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.text import Text

__all__ = ["FONT_ENV", "apply_fonts", "cjk_font", "font_status", "has_han"]

#: Environment variable naming a CJK font file to use before any other.
FONT_ENV = "AGGLOMERA_CJK_FONT"

_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Serif CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
)
_CJK_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)
_CJK_GLOBS = ("*CJK*.tt[cf]", "*CJK*.otf", "*SourceHan*", "wqy*.tt[cf]", "simhei.ttf")
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", str(Path.home() / ".fonts"))
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_PROBE = "中"
_FALLBACK = "DejaVu Sans"
_INSTALL_HINT = "install the Debian/Ubuntu package fonts-noto-cjk (or set AGGLOMERA_CJK_FONT)"

#: Warnings recorded by :func:`apply_fonts` (figures with Chinese text but no CJK font).
_WARNINGS: list[str] = []


@dataclass(frozen=True)
class _Found:
    family: str | None
    path: str | None
    reason: str


def has_han(text: str) -> bool:
    """Return True if ``text`` contains a CJK unified ideograph (Chinese character)."""
    return bool(_HAN.search(text))


def _covers_han(path: str, face_index: int = 0) -> bool:
    from matplotlib import ft2font

    try:
        font = ft2font.FT2Font(path, face_index=face_index)
        return bool(font.get_char_index(ord(_PROBE)))
    except (OSError, RuntimeError, ValueError):
        return False


def _register(path: str) -> str | None:
    """Register every face of ``path``; return the preferred family that covers Han."""
    before = len(font_manager.fontManager.ttflist)
    try:
        font_manager.fontManager.addfont(path)
    except (OSError, RuntimeError, ValueError):
        return None
    added = [f for f in font_manager.fontManager.ttflist[before:] if f.fname == path]
    names = list(dict.fromkeys(f.name for f in added))
    if not names:
        return None
    for family in _CJK_FAMILIES:
        if family in names:
            return family if _covers_han(path, _face_of(added, family)) else None
    return names[0] if _covers_han(path) else None


def _face_of(entries: list[Any], family: str) -> int:
    for entry in entries:
        if entry.name == family:
            return int(getattr(entry, "index", 0) or 0)
    return 0


@cache
def _discover() -> _Found:
    env = os.environ.get(FONT_ENV)
    if env:
        family = _register(env) if Path(env).is_file() else None
        if family is not None:
            return _Found(family, env, f"file named by {FONT_ENV}")
    for path in _CJK_PATHS:
        if Path(path).is_file():
            family = _register(path)
            if family is not None:
                return _Found(family, path, "system font package file")
    by_name = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in _CJK_FAMILIES:
        if family in by_name:
            return _Found(family, str(by_name[family]), "font already known to matplotlib")
    for folder in _FONT_DIRS:
        root = Path(folder)
        if not root.is_dir():
            continue
        for pattern in _CJK_GLOBS:
            files = sorted(root.rglob(pattern), key=lambda p: ("Regular" not in p.name, str(p)))
            for file in files:
                family = _register(str(file))
                if family is not None:
                    return _Found(family, str(file), f"found under {folder}")
    reason = "no CJK font found"
    if env:
        reason += f" ({FONT_ENV}={env!r} is not a readable CJK font)"
    return _Found(None, None, f"{reason}; {_INSTALL_HINT}")


def cjk_font() -> str | None:
    """Find and register a CJK font; return its family name, or None when there is none.

    The search is done once per process (cached); see the module docstring for the order.

    Returns
    -------
    str or None
        For example ``"Noto Sans CJK SC"`` with the Debian package ``fonts-noto-cjk``.
    """
    return _discover().family


def font_status() -> dict[str, Any]:
    """Return the font used for Chinese text, for the methods section of a report.

    Returns
    -------
    dict
        ``family`` (str or None), ``path`` (the registered file or None), ``reason`` (how
        it was found, or why none was) and ``warnings`` (list of str: figures with Chinese
        text drawn without a CJK font, in the order they were made).
    """
    found = _discover()
    return {
        "family": found.family,
        "path": found.path,
        "reason": found.reason,
        "warnings": list(_WARNINGS),
    }


def _describe(fig: Figure) -> str:
    for text in (getattr(fig, "_suptitle", None), *(ax.title for ax in fig.axes)):
        if isinstance(text, Text) and text.get_text():
            return repr(text.get_text())
    return "(untitled)"


def apply_fonts(fig: Figure, *, family: str | None = "auto") -> Figure:
    """Apply the CJK font to every text of ``fig`` (tick labels included); return ``fig``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A finished figure (texts added after this call keep the default font, except
        tick labels).
    family : str, None or "auto", default "auto"
        Font family; ``"auto"`` uses :func:`cjk_font`, None applies no CJK font.

    Returns
    -------
    matplotlib.figure.Figure
        The same figure. Every text gets the family list ``[family, "DejaVu Sans"]``.
        When no font is available and a text contains Chinese characters, the figure is
        left as it is (those glyphs render as boxes) and a warning is recorded in
        :func:`font_status`.
    """
    if family == "auto":
        family = cjk_font()
    texts = fig.findobj(Text)
    if family is None:
        if any(has_han(t.get_text()) for t in texts):
            message = (
                f"figure {_describe(fig)} has Chinese text but no CJK font is available; "
                f"the characters render as boxes ({_INSTALL_HINT})."
            )
            if message not in _WARNINGS:
                _WARNINGS.append(message)
        return fig
    families = [family, _FALLBACK]
    for ax in fig.axes:
        ax.tick_params(labelfontfamily=family)
    for text in texts:
        text.set_fontfamily(families)
    return fig
