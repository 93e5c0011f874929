"""One switch for the language of everything the module prints or draws: English or 中文.

    from d2lresnet import i18n
    i18n.set_notebook_language()                   # first cell of every notebook: zh in zh/
    i18n.set_language("zh")                        # or choose it yourself
    i18n.tr("conv", k=3, c=64)                     # '3×3卷积层，64'; label() for figure text

``MESSAGES[language][key]`` is a ``str.format`` template; add a key to both languages (a test
checks that they have the same keys and the same {fields}). The module and the CLI start in
English. Terms follow D2L zh (残差块, 批量规范化, 汇聚层, 步幅, ...), with Chinese punctuation
in Chinese text.

Figures need a font with Chinese glyphs. ``set_language("zh")`` puts the first CJK font it finds
first in matplotlib's ``font.sans-serif``; where there is none, ``label()`` (text drawn in a
figure) stays English and one line says which font to install, while ``tr()`` (printed text,
which the browser or terminal draws with its own fonts) stays Chinese.
"""
import os
import unicodedata
from pathlib import Path

from .fonts import CJK_FONTS, find_cjk_font, restore_fonts, use_font
from .messages import GLOSSARY, MESSAGES

__all__ = ["LANGUAGES", "MESSAGES", "GLOSSARY", "CJK_FONTS", "get_language", "set_language",
           "set_notebook_language", "find_cjk_font", "tr", "label", "text_width", "pad"]

LANGUAGES = ("en", "zh")
_language = "en"
_figure_font = None   # the CJK family in use, or None when figures must stay English
_warned = False


def get_language():
    return _language


def set_notebook_language():
    """The notebook's language, from the folder it runs in: "zh" in notebooks/zh/ (Jupyter
    and nbval start a notebook's kernel in its folder), else "en". D2LRESNET_LANG overrides
    the folder where it says nothing, as on Colab (/content). Returns the language."""
    folder = Path.cwd().name
    language = os.environ.get("D2LRESNET_LANG") or (folder if folder in LANGUAGES else "en")
    if language not in LANGUAGES:
        raise ValueError(f"D2LRESNET_LANG must be one of {LANGUAGES}, got {language!r}")
    set_language(language)
    return language


def set_language(language):
    """``"zh"`` or ``"en"`` for everything printed and drawn from now on."""
    global _language, _figure_font, _warned
    # A plain str first (str.__str__ copies a subclass's characters): a subclass's own
    # __eq__, __hash__ or __repr__ could say yes to anything, or raise.
    text = str.__str__(language) if isinstance(language, str) else None
    if text not in LANGUAGES:
        got = (repr(text) if text is not None else "None" if language is None
               else f"a {type(language).__name__}")
        raise ValueError(f"language must be one of {LANGUAGES}, got {got}")
    language = text
    _language = language
    if language == "en":
        restore_fonts()
        return
    _figure_font = find_cjk_font()
    if _figure_font is not None:
        use_font(_figure_font)
    elif not _warned:
        # In English: a machine without a CJK font may draw Chinese as boxes anywhere.
        print(MESSAGES["en"]["cjk_font_missing"])
        _warned = True

def tr(key, **fields):
    """The message ``key`` in the current language, with ``fields`` filled in."""
    return MESSAGES[_language][key].format(**fields)


def label(key, **fields):
    """Text drawn inside a matplotlib figure: Chinese only when a CJK font was found."""
    language = "zh" if _language == "zh" and _figure_font else "en"
    return MESSAGES[language][key].format(**fields)


def text_width(text):
    """The columns ``text`` takes in a terminal: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def pad(text, width, align="<"):
    """``text`` filled with spaces to ``width`` columns (text_width), on the right for "<",
    on the left for ">": f"{text:<18}" would count a Chinese character as one column."""
    fill = " " * max(width - text_width(text), 0)
    return text + fill if align == "<" else fill + text
