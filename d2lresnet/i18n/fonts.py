"""Chinese glyphs in matplotlib figures: find a CJK font, put it first, take it away again."""
import os

# Families matplotlib may know, best first; fonts-noto-cjk on Linux, the OS's own elsewhere.
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "PingFang SC",
             "Hiragino Sans GB", "Microsoft YaHei", "SimHei", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Noto Sans CJK JP", "Source Han Sans", "Arial Unicode MS")

_saved_fonts = None   # matplotlib's font settings before a CJK font, restored by restore_fonts()


def use_font(name):
    """Put the family ``name`` first in matplotlib's sans-serif list."""
    global _saved_fonts
    import matplotlib as mpl
    if _saved_fonts is None:
        _saved_fonts = {key: mpl.rcParams[key] for key in ("font.family", "font.sans-serif")}
    # matplotlib falls back glyph by glyph along this list, so ×, ⊕ and − still come from
    # DejaVu Sans when the CJK font lacks them.
    mpl.rcParams["font.sans-serif"] = [name] + [
        other for other in _saved_fonts["font.sans-serif"] if other != name]
    mpl.rcParams["font.family"] = "sans-serif"


def restore_fonts():
    """matplotlib's font settings as they were before use_font()."""
    global _saved_fonts
    if _saved_fonts is not None:
        import matplotlib as mpl
        mpl.rcParams.update(_saved_fonts)
        _saved_fonts = None


def find_cjk_font():
    """The first of CJK_FONTS that matplotlib can use, or None."""
    from matplotlib import font_manager
    for attempt in range(2):
        known = {font.name for font in font_manager.fontManager.ttflist}
        found = next((name for name in CJK_FONTS if name in known), None)
        if found or attempt:
            return found
        # matplotlib caches the font list; a font installed after the cache was built is
        # missing from it until registered by hand.
        for path in font_manager.findSystemFonts():
            name = os.path.basename(path).lower()
            if any(part in name for part in ("cjk", "sourcehan", "wqy", "msyh", "simhei",
                                             "pingfang")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    pass
