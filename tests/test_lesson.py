"""The form every lesson notebook follows: read in one sitting, about the student's network.

- at most 1,000 words of English prose in each of notebooks 01-07 (Chinese: 1,600 characters),
  counted up to an optional last section "Going further" / "更进一步";
- the title first, then the setup cell, hidden;
- no maintainer talk in 01-07 (our tests, the README, file names, the project's goals);
- one word for one thing in Chinese (d2lresnet/i18n/terms_zh.toml).
"""
import re
import tomllib
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LESSONS = sorted(p.name for p in (NOTEBOOKS / "en").glob("0[1-7]*.py"))
ALL = sorted(p.name for p in (NOTEBOOKS / "en").glob("*.py"))
MAX_WORDS, MAX_HANZI = 1000, 1600
GOING_FURTHER = re.compile(r"#+ .*(going further|更进一步)", re.I)
MAINTAINER_TALK = ("tests/", "README", ".json", "nbval", "pytest", "our goal", "the goal")
TERMS = tomllib.loads((ROOT / "d2lresnet" / "i18n" / "terms_zh.toml").read_text())


def _markdown(path):
    return [c.source for c in jupytext.read(path).cells if c.cell_type == "markdown"]


def lesson_prose(path):
    """The markdown a student reads in one sitting: up to a 'Going further' section."""
    path_cells = []
    for text in _markdown(path):
        if GOING_FURTHER.match(text.lstrip()):
            break
        path_cells.append(text)
    return "\n".join(path_cells)


def count_words(text):
    return len(re.findall(r"[A-Za-z0-9']+", text))


def count_hanzi(text):
    return len(re.findall(r"[\u4e00-\u9fff]", text))


def _prose_only(text):
    """Without formulas, code spans and links: what the glossary rules apply to."""
    return re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`|<[^>]*>|\([a-z]+://[^)]*\)", " ", text,
                  flags=re.S)


def test_the_counters_count():
    assert count_words("The block's output, 96x96 pixels.") == 5
    assert count_hanzi("残差块（ResNet）的输出") == 6
    assert _prose_only("a `x = 1` $3x3$ b") == "a     b"


@pytest.mark.parametrize("name", LESSONS)
def test_a_lesson_is_read_in_one_sitting(name):
    en = count_words(lesson_prose(NOTEBOOKS / "en" / name))
    zh = count_hanzi(lesson_prose(NOTEBOOKS / "zh" / name))
    assert en <= MAX_WORDS, f"en/{name}: {en} words of prose before 'Going further'"
    assert zh <= MAX_HANZI, f"zh/{name}: {zh} characters of prose before '更进一步'"


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("name", ALL)
def test_the_title_comes_first_then_the_hidden_setup(language, name):
    cells = jupytext.read(NOTEBOOKS / language / name).cells
    first, second = cells[0], cells[1]
    assert first.cell_type == "markdown" and first.source.lstrip().startswith("# "), \
        f"{language}/{name} opens on {first.source[:40]!r}, not its title"
    # ... and says how long Run All takes (measured, not a placeholder)
    assert re.search(r"\d+ (seconds|minutes)|\d+(秒|分钟)", first.source), \
        f"{language}/{name}: the first paragraph says no run time"
    assert "⟨" not in first.source, f"{language}/{name}: a placeholder is left in the title"
    assert second.cell_type == "code" and "set_notebook_language" in second.source, \
        f"{language}/{name}: the setup cell comes right after the title"
    assert second.metadata.get("jupyter", {}).get("source_hidden") is True, \
        f"{language}/{name}: the setup cell is not hidden"
    last_line = second.source.strip().splitlines()[-1].split("#")[0].rstrip()
    assert last_line.endswith(";"), f"{language}/{name}: the setup cell prints a value"


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("name", LESSONS)
def test_no_maintainer_talk_in_a_lesson(language, name):
    prose = "\n".join(_markdown(NOTEBOOKS / language / name))
    found = [word for word in MAINTAINER_TALK if word.lower() in prose.lower()]
    assert not found, f"{language}/{name} speaks of {found}"


def _zh_texts():
    from d2lresnet.i18n import MESSAGES
    texts = {f"zh/{p.name}": _prose_only("\n".join(_markdown(p)))
             for p in sorted((NOTEBOOKS / "zh").glob("*.py"))}
    texts["messages (zh)"] = _prose_only("\n".join(MESSAGES["zh"].values()))
    return texts


def glossary_violations(text):
    found = []
    for key, term in TERMS.items():
        found += [(key, word) for word in term.get("avoid", []) if word in text]
        found += [(key, match.group()) for pattern in term.get("avoid_regex", [])
                  for match in re.finditer(pattern, text)]
    return found


def test_the_glossary_refuses_its_variants():
    assert glossary_violations("用步幅2的卷积，得到特征映射。") == []
    assert ("feature_map", "特征图") in glossary_violations("输出特征图")
    assert ("plain_net", "普通网络-56") in glossary_violations("普通网络-56的损失")
    assert ("digits", "0,000") in glossary_violations("60,000张图像")
    assert ("times", "96x96") in glossary_violations("96x96的图像")
    assert glossary_violations("use_1x1conv=True，96×96") == []  # a name in code is no size


@pytest.mark.parametrize("where", list(_zh_texts()))
def test_one_word_for_one_thing_in_chinese(where):
    violations = glossary_violations(_zh_texts()[where])
    assert not violations, f"{where}: {violations} (see d2lresnet/i18n/terms_zh.toml)"


def test_stage_is_the_only_module():
    # 模块 names b1-b5 (D2L zh); an nn.Module is written `nn.Module`, the package d2lresnet包.
    for where, text in _zh_texts().items():
        for match in re.finditer("模块", text):
            around = text[max(0, match.start() - 12):match.end() + 12]
            assert re.search(r"b[1-5]|五个|四个|每个|各|模块\s*[（(]|阶段", around), \
                f"{where}: 模块 not about a stage: …{around}…"
