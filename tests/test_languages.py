"""中文 and English notebooks: the same numbered notebooks, the same code, only the prose differs.

Not even the language switch differs: each notebook's first code cell reads the language from
the notebook's folder (notebooks/zh/ or notebooks/en/).
"""
import re
from pathlib import Path

import jupytext
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SWITCH = ("from d2lresnet import i18n\n"
          "from d2lresnet.drawing.plots import present_from_environment\n"
          "i18n.set_notebook_language()\n"
          "present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _names(language):
    return sorted(p.name for p in (NOTEBOOKS / language).glob("*.py"))


def _cells(path, kind):
    return [c.source.strip() for c in jupytext.read(path).cells if c.cell_type == kind]


def test_both_languages_have_the_same_notebooks():
    assert _names("en"), "no English notebooks in notebooks/en/"
    assert _names("en") == _names("zh")


@pytest.mark.parametrize("name", _names("en"))
def test_code_cells_are_identical(name):
    en, zh = (_cells(NOTEBOOKS / language / name, "code") for language in ("en", "zh"))
    assert en[0] == SWITCH, f"en/{name}: the first code cell must set the language"
    assert len(en) == len(zh), f"{name}: {len(en)} code cells in en, {len(zh)} in zh"
    for number, (en_code, zh_code) in enumerate(zip(en, zh), start=1):
        assert en_code == zh_code, f"{name}: code cell {number} differs between en and zh"


def _words(text):
    """Prose without its formulas and code: what a translator translates."""
    return re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`|<[^>]*>|\(http[^)]*\)", " ", text, flags=re.S)


@pytest.mark.parametrize("name", _names("en"))
def test_prose_is_in_each_language(name):
    # Every zh prose cell with words in it is Chinese (formulas and code aside).
    zh = [_words(t) for t in _cells(NOTEBOOKS / "zh" / name, "markdown")]
    zh = [t for t in zh if re.search(r"[A-Za-z]{4}|[\u4e00-\u9fff]", t)]
    untranslated = [t.strip()[:60] for t in zh if not CJK.search(t)]
    assert not untranslated, f"zh/{name} has prose without Chinese: {untranslated}"


def _headings(path):
    return [line.split(" ")[0] for text in _cells(path, "markdown")
            for line in text.splitlines() if re.match(r"#+ ", line)]


@pytest.mark.parametrize("name", _names("en"))
def test_both_languages_have_the_same_sections(name):
    # A student holding one language's notebook finds each section in the other.
    en, zh = (_headings(NOTEBOOKS / language / name) for language in ("en", "zh"))
    assert en == zh, f"{name}: headings differ in number or level"


def test_the_first_page_links_every_notebook_in_both_languages():
    # `make lab` opens notebooks/index.ipynb: a student picks 中文 or English there.
    links = re.findall(r"\]\(([^)]+\.ipynb)\)", " ".join(_cells(NOTEBOOKS / "index.py", "markdown")))
    expected = [f"{language}/{name[:-3]}.ipynb" for language in ("zh", "en") for name in _names(language)]
    assert sorted(links) == sorted(expected)
    assert all((NOTEBOOKS / link).exists() for link in links)


CJK_OR_PUNCTUATION = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
STARTS_A_BLOCK = re.compile(r"([*\-#|>]|\d+\.|\$\$)")


@pytest.mark.parametrize("name", _names("zh"))
def test_chinese_paragraphs_are_not_broken_beside_a_chinese_character(name):
    # A line break inside a Markdown paragraph renders as a space: "本笔记本用此后 几篇论文".
    breaks = []
    for text in _cells(NOTEBOOKS / "zh" / name, "markdown"):
        lines = [line.strip() for line in text.split("\n")]
        for before, after in zip(lines, lines[1:]):
            if (before and after and not before.startswith(("#", "|", "$$"))
                    and not STARTS_A_BLOCK.match(after)
                    and (CJK_OR_PUNCTUATION.match(before[-1])
                         or CJK_OR_PUNCTUATION.match(after[0]))):
                breaks.append(f"{before[-12:]} / {after[:12]}")
    assert not breaks
