"""exercises.check: the right answer passes, a wrong one is reported wrong with a hint that does
not give the answer away, in the notebook's language; and every exercise in notebooks 01-07
has an answer cell, a check and a collapsed solution cell (tagged "solution") in both languages.

The right answers here are worked by hand (REFERENCE.md's architecture), not taken from the
checker, which computes its own from the module."""
import re
from pathlib import Path

import jupytext
import numpy as np
import pytest
import torch

from d2lresnet import Residual, exercises, i18n, resnet

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

# number: (the right answer worked by hand, wrong answers a student might give)
ANSWERS = {
    "01.1": (2 * (2 * (9 * 8 * 8 + 8) + 2 * 2 * 8), [1200, 2 * 2 * 9 * 8 * 8, 2416]),
    "01.2": ([1, 3, 5, 7], [[1], [1, 2, 3, 4, 5, 6, 7, 8], [1, 3, 5], [2, 4, 6, 8]]),
    "02.1": ((128, 8, 8), [(128, 7, 7), (64, 8, 8), (128, 15, 15), (6, 3, 3)]),
    "02.2": (["a", "d", "e"], [["a"], ["a", "d"], ["a", "b", "c", "d", "e"], ["d", "e"]]),
    "02.3": (64 * 128 + 128, [64 * 128, 9 * 64 * 128 + 128]),
    # b3 of ResNet-34: first block 73,856 + 147,584 + 2 x 256 + 8,320; three more of 295,680
    "03.1": (1_117_312, [230_272, 4 * 230_272, 1_117_312 - 8_320]),
    "03.2": (26, [34, 18, 29]),
    "04.1": (33, [32, 34, 64, 65]),  # b5 puts out ceil(n / 32)
    "04.2": (4, [3, 5, 7]),
    # 144 + 32 (stem) + 5 x 4,672 + 13,952 + 4 x 18,560 + 55,552 + 4 x 73,984 + 650 (linear)
    "05.1": (10 * 235, [10 * 234, 60_000 // 256, 10 * 60_000]),  # 234 full minibatches + 96
    "05.2": ("shirt", ["t-shirt", 0, "coat", "trouser"]),  # RUNS below; no trousers in that run
    "06.1": ("plain", ["residual"]),
    "06.2": (463_866, [463_866 - 650, 460_000, 470_000]),
    # 9 blocks, each passed by its branch or its shortcut: 2^9 paths, C(9, 3) through 3 branches
    "06b.1": (512, [9, 20, 18, 2 ** 20, 2 ** 18]),
    "06b.2": (84, [3, 9, 27, 512, 504]),
    "07.1": (64 + 128 + 32 + 32, [192, 64, 128 + 32 + 32]),
    # 1x1 1024->256, 3x3 256->256, 1x1 256->1024, with biases; BatchNorms 2 x (256 + 256 + 1024)
    "07.2": (resnet((3, 4, 6, 3)), [resnet((2, 2, 2, 2)), resnet((3, 4, 6, 2)),
                                    resnet((3, 4, 6, 3), stage_widths=(32, 64, 128, 256))]),
    "07.3": (262_400 + 590_080 + 263_168 + 3_072, [262_400 + 590_080 + 263_168,
                                                   2 * 9 * 1024 * 1024]),
    # the whole block, the addition included: nothing follows it
    "07.4": (["bn", "relu", "conv", "bn", "relu", "conv", "add"],
             [["conv", "bn", "relu", "conv", "bn", "add", "relu"],  # the notes' block
              ["bn", "relu", "conv", "bn", "relu", "conv"],  # the book's words, no addition
              ["bn", "relu", "conv", "bn", "relu", "conv", "add", "relu"],
              ["add", "bn", "relu", "conv", "bn", "relu", "conv"], ["bn", "relu", "conv"]]),
    # each stage's blocks cost about the same (side halves, channels double): 54 / 9 blocks,
    # a little more as the two downsampling blocks weigh more in the shallow net
    "07.5": (6.2, [110 / 20, 36.0, 1.0]),
}
# What an exercise about the student's own run is given: here a run where plain-20 ends above
# residual-20 on two seeds of three (plain-8 the other way round, which must not count).
_run = lambda *losses: [dict(loss=[2.0, loss]) for loss in losses]
# 05.2: shirts right 1 time in 4, coats 2 in 4, t-shirts always.
_labels = torch.tensor([0, 0, 6, 6, 6, 6, 4, 4, 4, 4])
RUNS = {"05.2": dict(labels=_labels, predictions=torch.tensor([0, 0, 6, 0, 0, 4, 4, 4, 6, 6])),
        "06.1": dict(results=dict(plain={8: _run(0.1, 0.1, 0.1), 20: _run(0.9, 0.8, 0.1)},
                                  residual={8: _run(0.5, 0.5, 0.5), 20: _run(0.5, 0.5, 0.5)}))}


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    i18n.set_language("en")


def test_every_exercise_is_worked_here():
    assert sorted(ANSWERS) == sorted(exercises.EXERCISES)


@pytest.mark.parametrize("number", sorted(ANSWERS))
def test_the_right_answer_passes(number, language):
    verdict = exercises.check(number, ANSWERS[number][0], **RUNS.get(number, {}))
    assert verdict and str(verdict) == i18n.tr("exercise_right")


def _gives_away(message, right):
    """Does the message state the right answer (a number, or a list's items in a row)?"""
    items = right if isinstance(right, (list, tuple)) else [right]
    as_text = r"\W+".join(re.escape(str(item)) for item in items)
    return re.search(rf"(?<![\w.]){as_text}(?!\w|\.\d)", message) is not None


@pytest.mark.parametrize("number", sorted(ANSWERS))
def test_a_wrong_answer_is_wrong_with_a_hint_not_the_answer(number, language):
    right, wrong_answers = ANSWERS[number]
    for wrong in wrong_answers:
        verdict = exercises.check(number, wrong, **RUNS.get(number, {}))
        assert not verdict, (number, wrong)
        hint = str(verdict)
        prefix = i18n.tr("exercise_wrong", hint="")
        assert hint.startswith(prefix) and len(hint) > len(prefix) + 20, hint
        assert not _gives_away(hint, right), (number, wrong, hint)
        if language == "zh":
            assert re.search(r"[\u4e00-\u9fff]", hint) and "Hint" not in hint


def test_the_give_away_detector_can_fail():
    assert _gives_away("the answer is 33.", 33) and _gives_away("(128, 8, 8)", (128, 8, 8))
    assert not _gives_away("at 32×32, b5 puts out 1×1", 33) and not _gives_away("b4", 4)


@pytest.mark.parametrize("number, malformed", [
    ("01.1", "2400"), ("01.1", 2400.0), ("01.1", True), ("02.1", (128, 8)),
    ("02.1", "128, 8, 8"), ("01.2", 1), ("02.2", [1, 2]), ("04.1", 1), ("04.1", -5),
    ("05.2", "jacket"), ("05.2", 10), ("07.2", 34), ("07.4", "bn relu conv"), ("07.5", "6"),
    ("07.5", -6.3)])
def test_an_answer_of_the_wrong_form_says_which_form(number, malformed):
    verdict = exercises.check(number, malformed, **RUNS.get(number, {}))
    assert not verdict
    assert str(verdict).startswith(i18n.tr("exercise_wrong_form", form="", value="")[:12])
    assert repr(malformed) in str(verdict)


def test_shapes_and_letters_are_read_generously():
    assert exercises.check("02.1", torch.Size([128, 8, 8]))
    assert exercises.check("02.1", [128, np.int64(8), 8])
    assert exercises.check("02.2", {"A", " d", "e"})


def test_no_answer_yet_is_not_an_error(language):
    for value in (..., None):
        verdict = exercises.check("02.1", value)
        assert not verdict and str(verdict) == i18n.tr("exercise_unanswered")


def test_an_unknown_exercise_is_refused_in_one_line():
    with pytest.raises(ValueError, match="no exercise '9.9'; there are 01.1, 01.2"):
        exercises.check("9.9", 1)


def test_block_choices_agree_with_real_blocks():
    # 02.2's checker asks block_output_shape; a real Residual must add exactly where it says.
    can_add = set()
    for letter, arguments in exercises.BLOCK_CHOICES.items():
        arguments = {"use_1x1conv": False, "strides": 1, **arguments}
        try:
            Residual(**arguments)(torch.rand(2, 3, 6, 6))
            can_add.add(letter)
        except ValueError:
            pass
    assert sorted(can_add) == ANSWERS["02.2"][0]


def test_bump_classes_rule_agrees_with_least_squares():
    # 01.2's checker reasons about the centres; notebook 01 fits the bumps by least squares.
    x = np.linspace(-1, 1, 201)

    def bumps(k, width=0.2):
        centres = -1 + (2 * np.arange(k) + 1) / k
        return np.exp(-((x[:, None] - centres) / width) ** 2)

    def fits_exactly(k):
        target = bumps(1)[:, 0]
        weights = np.linalg.lstsq(bumps(k), target, rcond=None)[0]
        return np.sqrt(np.mean((bumps(k) @ weights - target) ** 2)) < 1e-9

    assert [k for k in range(1, 9) if fits_exactly(k)] == ANSWERS["01.2"][0]


# The notebooks: answer cell, check, collapsed solution that asserts the check ---------------

def _exercise_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"
            and "exercises.check(" in cell.source]


@pytest.mark.parametrize("language_folder", ["en", "zh"])
@pytest.mark.parametrize("prefix", ["01", "02", "03", "04", "05", "06", "07"])
def test_each_notebook_checks_and_solves_its_exercises(prefix, language_folder):
    [path] = (NOTEBOOKS / language_folder).glob(f"{prefix}_*.py")
    notebook = jupytext.read(path)
    numbers = sorted(n for n in exercises.EXERCISES if n.startswith(prefix + "."))
    assert 2 <= len(numbers) <= 4 or (prefix == "07" and len(numbers) == 5)  # the book's five
    cells = _exercise_cells(notebook)
    checks = [c for c in cells if "solution" not in c.metadata.get("tags", [])]
    solutions = [c for c in cells if "solution" in c.metadata.get("tags", [])]
    for number in numbers:
        name = "answer_{}_{}".format(*(int(part) for part in number.split(".")))
        [check] = [c for c in checks if f'"{number}"' in c.source]
        # the run an exercise reads comes in as keywords: exercises.check("06.1", a, results=r)
        keywords = "".join(f", {k}={k}" for k in RUNS.get(number, {}))
        assert check.source.strip() == f'exercises.check("{number}", {name}{keywords})'
        [answer] = [c for c in notebook.cells if f"{name} = ...  # your answer" in c.source]
        [solution] = [c for c in solutions if f'"{number}"' in c.source]
        # its own name: Run All never fills in the student's answer (issue 33 §8)
        own = name.replace("answer_", "solution_")
        assert f'assert exercises.check("{number}", {own}' in solution.source
        assert not re.search(rf"\b{name}\b", solution.source), solution.source
        assert solution.metadata["jupyter"] == {"source_hidden": True}  # JupyterLab: collapsed
        assert solution.metadata["cellView"] == "form"  # Colab: folded too
        # folded, JupyterLab shows the first line: a word a student reads, no directive
        assert solution.source.startswith("# Solution · 解答\n"), solution.source[:40]
        order = [next(i for i, c in enumerate(notebook.cells) if c is cell)
                 for cell in (answer, check, solution)]
        assert order == sorted(order), f"{path.name} {number}: answer, check, solution"


def test_notebook_02_lists_the_blocks_the_checker_knows():
    def call(arguments):
        arguments = dict(arguments)
        positional = [str(arguments.pop("input_channels")), str(arguments.pop("num_channels"))]
        return "Residual({})".format(", ".join(positional + [f"{k}={v}" for k, v in
                                                             arguments.items()]))

    for language_folder in ("en", "zh"):
        prose = "\n".join(cell.source for cell in
                          jupytext.read(NOTEBOOKS / language_folder / "02_residual_block.py").cells
                          if cell.cell_type == "markdown")
        listed = re.findall(r"^\* \((\w)\) `(Residual\([^`]*\))`$", prose, flags=re.M)
        assert listed == [(letter, call(arguments))
                          for letter, arguments in exercises.BLOCK_CHOICES.items()]


@pytest.mark.parametrize("language_folder, label", [("en", "Solution"), ("zh", "解答")])
def test_static_pages_fold_each_solution(language_folder, label, tmp_path):
    # `make html`: a solution is a <details> element, closed, labelled in the page's language.
    pytest.importorskip("latex2mathml")
    from tools.pages import build_html
    [page] = build_html([NOTEBOOKS / language_folder / "02_residual_block.ipynb"], tmp_path)
    folded = re.findall(r"<details class=\"solution\"><summary>(.*?)</summary>(.*?)</details>",
                        page.read_text(encoding="utf-8"), flags=re.S)
    assert [summary for summary, _ in folded] == [label] * 3
    for number, (_, body) in zip(["02.1", "02.2", "02.3"], folded):
        assert "exercises" in body and number in body and "solution_2_" in body


# Issue 35 items 8, 11, 13, 14, 15 and issue 33 §5: answers are plain values first ----------

class YesToEverything(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__


class CloseToEverything(float):
    def __truediv__(self, other):
        return 1.0

    def __abs__(self):
        return 0.0


class ReadsTheChecker:
    """An answer that looks up the checker's expected value while it is being converted."""

    def _expected(self):
        import sys
        frame = sys._getframe(1)
        while frame:
            if "expected" in frame.f_locals:
                return frame.f_locals["expected"]
            frame = frame.f_back
        return 0

    def __int__(self):
        return int(self._expected())

    __index__ = __int__

    def __iter__(self):
        expected = self._expected()
        return iter(expected if hasattr(expected, "__iter__") else [expected])


class ReadsTheCheckerAsANumber(ReadsTheChecker):
    pass


__import__("numbers").Integral.register(ReadsTheCheckerAsANumber)  # int() is how it is read


def _yes_iterable(item):
    class Items(list):
        def __eq__(self, other):
            return True
    return Items([item])


@pytest.mark.parametrize("number", sorted(ANSWERS))
def test_no_object_answers_by_its_own_eq_or_by_reading_the_checker(number):
    from unittest import mock
    cheats = [mock.ANY, YesToEverything("x"), CloseToEverything(1.0), ReadsTheChecker(),
              ReadsTheCheckerAsANumber(), _yes_iterable("bn"), [mock.ANY, mock.ANY, mock.ANY]]
    cheats += [[YesToEverything("x")] * n for n in range(1, 10)]  # 07.4's list, any length
    for cheat in cheats:
        assert not exercises.check(number, cheat, **RUNS.get(number, {})), (number, cheat)


@pytest.mark.parametrize("number, answer", [
    ("07.5", torch.tensor(6.27)), ("07.5", np.float32(6.27)), ("07.5", __import__("decimal").Decimal("6.27")),
    ("03.2", torch.tensor(26)), ("03.2", np.int64(26)), ("03.2", __import__("decimal").Decimal(26)),
    ("02.1", torch.tensor([128, 8, 8])), ("02.2", ["ａ", "Ｄ", "e"]),
    ("05.2", "Shirt"), ("05.2", "shirt"), ("05.2", "衬衫"), ("05.2", 6)])
def test_numbers_and_names_in_any_plain_form_are_read(number, answer):
    assert exercises.check(number, answer, **RUNS.get(number, {})), (number, answer)


def test_torchvisions_and_every_languages_class_names_are_read_without_a_cjk_font(monkeypatch):
    # "外套" is the example form_class itself gives; with no CJK font class_names() is English.
    monkeypatch.setattr(i18n, "_figure_font", None)
    i18n.set_language("zh")
    coats = dict(labels=torch.tensor([4, 0]), predictions=torch.tensor([0, 0]))
    for name in ("外套", "Coat", "coat", 4):
        assert exercises.check("05.2", name, **coats), name
    tops = dict(labels=torch.tensor([0, 4]), predictions=torch.tensor([4, 4]))
    assert exercises.check("05.2", "T-shirt/top", **tops) and exercises.check("05.2", "T恤", **tops)


@pytest.mark.parametrize("number, malformed", [
    ("02.2", "ade"), ("02.2", ["ad", "e"]), ("02.2", ["a", ""]),
    ("04.1", 10**400 | 2**62), ("07.5", 10**400), ("01.1", 10**400)])
def test_what_is_no_answer_of_the_asked_form_is_called_the_wrong_form(number, malformed):
    verdict = exercises.check(number, malformed)
    assert not verdict and str(verdict).startswith(
        i18n.tr("exercise_wrong_form", form="", value="")[:12]), str(verdict)


@pytest.mark.parametrize("number, endless", [
    ("02.2", "itertools.repeat('a')"), ("07.4", "itertools.cycle(['bn'])"),
    ("01.2", "itertools.count()"), ("02.1", "itertools.count()")])
def test_an_endless_answer_is_the_wrong_form_not_a_hang(number, endless):
    import itertools  # noqa: F401 (the answers' module)
    verdict = exercises.check(number, eval(endless))
    assert not verdict and "wrong" not in str(verdict).lower() or str(verdict).startswith(
        i18n.tr("exercise_wrong_form", form="", value="")[:12])


class Raises:
    def __iter__(self):
        raise RuntimeError("no")

    def __eq__(self, other):
        raise RuntimeError("no")

    __hash__ = object.__hash__

    def __repr__(self):
        raise RuntimeError("no repr either")


class Unbuilt(torch.nn.Module):
    def __init__(self):
        pass  # no super().__init__()


@pytest.mark.parametrize("number, answer", [("01.2", Raises()), ("07.4", Raises()),
                                            ("06.1", Raises()), ("07.2", Unbuilt())])
def test_an_answer_that_raises_is_the_wrong_form_not_a_traceback(number, answer):
    verdict = exercises.check(number, answer, **RUNS.get(number, {}))
    assert not verdict and "Raises" in str(verdict) or "Unbuilt" in str(verdict) or \
        str(verdict).startswith(i18n.tr("exercise_wrong_form", form="", value="")[:12])


@pytest.mark.parametrize("call, message", [
    (lambda: exercises.check(["02.1"], 1), "no exercise ['02.1']"),
    (lambda: exercises.check("05.2", 6), "exercise 05.2: missing a required argument"),
    (lambda: exercises.check("02.1", 1, results={}), "exercise 02.1: got an unexpected keyword"),
    (lambda: exercises.check("05.2", 6, labels=[], predictions=[]), "at least one"),
    (lambda: exercises.check("05.2", 6, labels=[0, 12], predictions=[0, 1]), "each 0 to 9"),
    (lambda: exercises.check("05.2", 6, labels=[0, 1], predictions=[0]), "as many"),
])
def test_a_call_the_exercise_cannot_take_is_refused_in_one_line(call, message):
    # 05.2 with empty labels passed for any class: nothing had a smaller share than nothing.
    with pytest.raises(ValueError, match=re.escape(message)) as err:
        call()
    assert "\n" not in str(err.value)
