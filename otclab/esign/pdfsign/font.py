"""The CJK font used in visible seals.

pyHanko's ``GlyphAccumulatorFactory`` opens a single OpenType/TrueType font (it passes the file to
``fontTools.ttLib.TTFont`` without a font number), so a TrueType *collection* such as
``wqy-zenhei.ttc`` (Debian ``fonts-wqy-zenhei``) cannot be given directly. We extract face 0
(WenQuanYi Zen Hei) once into a cached ``.ttf``; fontTools copies the tables without decoding, so
this takes well under a second. ``OTCLAB_SEAL_FONT`` may name another .ttf/.otf with CJK glyphs.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError

SYSTEM_TTC = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


def _cache_dir() -> Path:
    base = os.environ.get("OTCLAB_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "otclab")
    return Path(base) / "fonts"


def seal_font_path() -> str:
    """Path of a single-face CJK .ttf/.otf for seals (extracted from the system TTC if needed)."""
    override = os.environ.get("OTCLAB_SEAL_FONT")
    if override:
        if not Path(override).is_file():
            raise InputError(f"font file not found: {override}", field="OTCLAB_SEAL_FONT")
        return override
    if not SYSTEM_TTC.is_file():
        raise InputError(
            f"no CJK font for the seal: install Debian package fonts-wqy-zenhei ({SYSTEM_TTC}) "
            "or set OTCLAB_SEAL_FONT to a .ttf/.otf with Chinese glyphs",
            field="font",
        )
    target = _cache_dir() / "wqy-zenhei-0.ttf"
    if not target.is_file() or target.stat().st_mtime < SYSTEM_TTC.stat().st_mtime:
        from fontTools.ttLib import TTCollection

        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        TTCollection(str(SYSTEM_TTC), lazy=True).fonts[0].save(str(tmp))
        os.replace(tmp, target)  # atomic: concurrent signers never read a half-written font
    return str(target)
