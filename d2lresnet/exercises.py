"""Exercises a student can check: right or wrong, in the notebook's language, with a hint when
wrong and never the answer.

    answer_2_1 = ...  # your answer
    exercises.check("02.1", answer_2_1)       # shows "✓ Right." or "✗ Not yet: <hint>"

Each check computes its expected value from the module (a block's output shape, a built stage's
parameters, a traced shape) instead of storing it, so a notebook holds no answer in clear text.
The worked solution sits in a cell tagged "solution" below the check (collapsed; `make student`,
tools/student.py, removes it); it runs ``assert exercises.check(...)``, so nbval checks every
solution. ``check`` returns a Verdict: true when right, shown as its message.
"""
import inspect
import itertools
import math
import unicodedata
from decimal import Decimal
from fractions import Fraction
from numbers import Integral, Real

import torch

from . import i18n
from .blocks import Residual
from .model import count_layers, count_parameters, resnet, resnet18, resnet_block
from .shapes import block_output_shape, trace_shapes

__all__ = ["check", "Verdict", "EXERCISES", "BLOCK_CHOICES"]

EXERCISES = {}  # "02.1": the function that returns None when the answer is right, else a hint


class Verdict:
    """The outcome of one check: ``bool(verdict)`` says right or wrong; Jupyter shows the
    message (its repr)."""

    def __init__(self, correct, message):
        self.correct, self.message = correct, message

    def __bool__(self):
        return self.correct

    def __repr__(self):
        return self.message

    __str__ = __repr__


class _WrongForm(Exception):
    """The answer is not of the form the exercise asks for (the message says which)."""


def exercise(number):
    def register(function):
        EXERCISES[number] = function
        return function
    return register


def check(number, answer, **run):
    """Is ``answer`` right for exercise ``number`` ("02.1")? A Verdict, never an exception for
    a wrong or malformed answer; an unknown exercise number, or keywords it does not take, are
    refused in one line. ``run``: what an exercise about the student's own run needs to see
    (e.g. ``results=``). The answer is made a plain value (_plain) before the exercise
    computes what it expects: an object cannot answer by its own ``__eq__``, nor read the
    expected value while it is converted."""
    if not isinstance(number, str) or type(number) is not str or number not in EXERCISES:
        raise ValueError(f"no exercise {number!r}; there are {', '.join(EXERCISES)}")
    try:
        inspect.signature(EXERCISES[number]).bind(answer, **run)
    except TypeError as err:
        raise ValueError(f"exercise {number}: {err}") from None
    if answer is Ellipsis or answer is None:
        return Verdict(False, i18n.tr("exercise_unanswered"))
    try:
        hint = EXERCISES[number](_plain(answer), **run)
    except _WrongForm as wrong:
        return Verdict(False, i18n.tr("exercise_wrong_form", form=str(wrong),
                                      value=_shown(answer)))
    if hint is None:
        return Verdict(True, i18n.tr("exercise_right"))
    return Verdict(False, i18n.tr("exercise_wrong", hint=hint))


# The forms an answer can take ------------------------------------------------------------

_MOST_ITEMS = 100  # more is no answer here (and itertools.count() would never end)
_LARGEST = 2**63   # no answer is a larger number (10**400 would overflow a float)


class _NoPlainValue:
    """What an answer that is no plain value becomes: equal to nothing but itself, of no form
    an exercise asks for, so every exercise calls it the wrong form."""

    def __repr__(self):
        return "<no plain value>"


def _plain(answer, depth=0):
    """The answer as plain values: bool, int, float, str, a tuple of those, or a built
    nn.Module (07.2's form). Subclasses become their base type (their __eq__ is gone), a 0-d
    tensor or NumPy scalar its number, a Decimal an int if whole else a float, any other
    iterable a tuple of at most _MOST_ITEMS items; what cannot be converted, _NoPlainValue."""
    try:
        if isinstance(answer, torch.nn.Module):  # built, or its layers cannot be counted
            return answer if "_modules" in vars(answer) else _NoPlainValue()
        if isinstance(answer, torch.Tensor):
            if answer.numel() > _MOST_ITEMS:
                return _NoPlainValue()
            answer = torch.Tensor.tolist(answer) if answer.dim() else torch.Tensor.item(answer)
        if isinstance(answer, bool) or type(answer).__name__ == "bool_":
            return bool(answer)
        if isinstance(answer, int):
            answer = int.__int__(answer)
        elif isinstance(answer, Integral):
            answer = int(answer)  # a NumPy integer
        elif isinstance(answer, Decimal):
            whole = Decimal.to_integral_value(answer) == answer
            answer = int(Decimal.__int__(answer)) if whole else Decimal.__float__(answer)
        elif isinstance(answer, Real):
            answer = float.__float__(answer) if isinstance(answer, float) else float(answer)
        if type(answer) is int:
            return answer if abs(answer) < _LARGEST else _NoPlainValue()
        if type(answer) is float:
            return answer
        if isinstance(answer, str):
            return str.__str__(answer)
        if depth < 2 and hasattr(answer, "__iter__") and not isinstance(answer, bytes):
            items = list(itertools.islice(iter(answer), _MOST_ITEMS + 1))
            if len(items) <= _MOST_ITEMS:
                return tuple(_plain(item, depth + 1) for item in items)
    except Exception:  # an __iter__, __int__ or __eq__ that raises: no plain value either
        pass
    return _NoPlainValue()


def _shown(answer):
    """The answer as the wrong-form message quotes it, even if its repr fails or never ends."""
    try:
        text = repr(answer)
    except Exception:
        text = f"<{type(answer).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


def _whole_number(answer):
    if isinstance(answer, bool) or not isinstance(answer, Integral):
        raise _WrongForm(i18n.tr("form_whole_number"))
    return int(answer)


def _whole_numbers(answer, form="form_numbers"):
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__iter__"):
        raise _WrongForm(i18n.tr(form))
    try:
        return [_whole_number(item) for item in answer]
    except _WrongForm:
        raise _WrongForm(i18n.tr(form)) from None


def _shape(answer):
    if isinstance(answer, torch.Size):
        answer = tuple(answer)
    numbers = _whole_numbers(answer, "form_shape")
    if len(numbers) != 3:
        raise _WrongForm(i18n.tr("form_shape"))
    return tuple(numbers)


def _letters(answer):
    """One letter, or several, each a str of one letter ("ade" is no letter; full-width ａ is a)."""
    if isinstance(answer, str):
        answer = [answer]
    if not isinstance(answer, tuple) or not all(isinstance(item, str) for item in answer):
        raise _WrongForm(i18n.tr("form_letters"))
    letters = {unicodedata.normalize("NFKC", item).strip().lower() for item in answer}
    if not all(len(letter) == 1 and letter.isascii() and letter.isalpha() for letter in letters):
        raise _WrongForm(i18n.tr("form_letters"))
    return letters


# 01: function classes and the insertion experiment -----------------------------------------

@exercise("01.1")
def _inserted_parameters(answer):
    """How many parameters do the two inserted residual blocks (8 channels) add?"""
    expected = 2 * count_parameters(Residual(8, 8))
    return None if _whole_number(answer) == expected else i18n.tr("hint_01_1")


@exercise("01.2")
def _bump_classes(answer):
    """Which of G_1..G_8 contain G_1 (one bump at 0)? Those with a bump centred at 0."""
    expected = {k for k in range(1, 9)
                if 0 in (Fraction(2 * i + 1, k) - 1 for i in range(k))}
    return None if set(_whole_numbers(answer)) == expected else i18n.tr("hint_01_2")


# 02: the residual block --------------------------------------------------------------------

@exercise("02.1")
def _block_shape(answer):
    """(channels, height, width) of Residual(64, 128, use_1x1conv=True, strides=2) on 64x15x15."""
    expected = block_output_shape(64, 128, strides=2, use_1x1conv=True, height=15, width=15).shape
    answer = _shape(answer)
    if answer == expected:
        return None
    return i18n.tr("hint_02_1_channels" if answer[0] != expected[0] else "hint_02_1_side")


# Exercise 02.2's blocks, as the notebook lists them: which can add their shortcut on 3x6x6?
BLOCK_CHOICES = {"a": dict(input_channels=3, num_channels=3),
                 "b": dict(input_channels=3, num_channels=6),
                 "c": dict(input_channels=3, num_channels=3, strides=2),
                 "d": dict(input_channels=3, num_channels=6, use_1x1conv=True, strides=2),
                 "e": dict(input_channels=3, num_channels=3, use_1x1conv=True)}


@exercise("02.2")
def _blocks_that_add(answer):
    chosen = _letters(answer)
    can_add = {letter for letter, block in BLOCK_CHOICES.items()
               if block_output_shape(**block, height=6, width=6).shape is not None}
    if chosen == can_add:
        return None
    return i18n.tr("hint_02_2", missing=len(can_add - chosen), extra=len(chosen - can_add))


@exercise("02.3")
def _shortcut_parameters(answer):
    """Parameters of the 1x1 shortcut conv of Residual(64, 128, use_1x1conv=True, strides=2)."""
    expected = count_parameters(Residual(64, 128, use_1x1conv=True, strides=2).shortcut)
    return None if _whole_number(answer) == expected else i18n.tr("hint_02_3")


# 03: the ResNet model ----------------------------------------------------------------------

@exercise("03.1")
def _stage_parameters(answer):
    """Parameters of ResNet-34's b3: resnet_block(64, 128, 4)."""
    with torch.device("meta"):  # shapes only: nothing to initialise
        expected = count_parameters(torch.nn.Sequential(*resnet_block(64, 128, 4)))
    return None if _whole_number(answer) == expected else i18n.tr("hint_03_1")


@exercise("03.2")
def _layers_of_three_blocks(answer):
    """Layers the notes count in a ResNet with three residual blocks per stage."""
    with torch.device("meta"):
        expected = count_layers(resnet((3, 3, 3, 3)))
    return None if _whole_number(answer) == expected else i18n.tr("hint_03_2")


# 04: shape tracing -------------------------------------------------------------------------

def _b5_side(size):
    """The side of b5's output (trace row 4) for a size x size input, on the meta device."""
    with torch.device("meta"):
        net = resnet18()
    return trace_shapes(net, (1, 1, size, size))[4].shape[-1]


@exercise("04.1")
def _smallest_two_pixels(answer):
    """The smallest square input for which b5 puts out 2x2 instead of 1x1."""
    size = _whole_number(answer)
    if size < 2:
        raise _WrongForm(i18n.tr("form_side"))
    # One hint whatever the answer: "smaller"/"larger" would let a student bisect to it.
    smallest = _b5_side(size) == 2 and _b5_side(size - 1) != 2
    return None if smallest else i18n.tr("hint_04_1")


@exercise("04.2")
def _b5_side_at_100(answer):
    """The side of b5's output for a 100x100 input."""
    return None if _whole_number(answer) == _b5_side(100) else i18n.tr("hint_04_2")


# 06: degradation ---------------------------------------------------------------------------

@exercise("06.1")
def _worse_twin(answer, results):
    """In the student's own run, which twin of the deeper depth ends with the higher training
    loss on most seeds: "plain" or "residual"?"""
    if answer not in ("plain", "residual"):
        raise _WrongForm(i18n.tr("form_plain_or_residual"))
    deep = max(results["plain"])
    plain_worse = sum(p["loss"][-1] > r["loss"][-1]
                      for p, r in zip(results["plain"][deep], results["residual"][deep]))
    expected = "plain" if 2 * plain_worse > len(results["plain"][deep]) else "residual"
    return None if answer == expected else i18n.tr("hint_06_1", depth=deep)


@exercise("06.2")
def _twin_parameters(answer):
    """How many parameters has the 32-layer residual twin (n = 5)?"""
    from .experiments.twins import cifar_resnet
    expected = count_parameters(cifar_resnet(5))
    return None if _whole_number(answer) == expected else i18n.tr("hint_06_2")


# 06b: why residual blocks work ---------------------------------------------------------------

def _twin_blocks(depth):
    from .experiments.twins import CifarBlock, cifar_resnet, depth_to_n
    return sum(isinstance(m, CifarBlock) for m in cifar_resnet(depth_to_n(depth)).modules())


@exercise("06b.1")
def _paths(answer):
    """Veit et al.'s reading: at every block a path takes the branch or the shortcut. How many
    paths from input to output has the 20-layer residual twin?"""
    return None if _whole_number(answer) == 2 ** _twin_blocks(20) else i18n.tr("hint_06b_1")


@exercise("06b.2")
def _paths_through(answer):
    """How many of the 20-layer residual twin's paths pass through exactly three residual
    branches (and take the shortcut at every other block)?"""
    expected = math.comb(_twin_blocks(20), 3)
    return None if _whole_number(answer) == expected else i18n.tr("hint_06b_2")


# 05: training ------------------------------------------------------------------------------

@exercise("05.1")
def _book_updates(answer):
    """How many times does SGD update the weights in the book's recipe (10 epochs, batch 256,
    60,000 training images, the last batch smaller)?"""
    from .data import TRAIN_IMAGES
    from .presets import PRESETS
    book = PRESETS["book"]
    expected = book.num_epochs * math.ceil(TRAIN_IMAGES / book.batch_size)
    return None if _whole_number(answer) == expected else i18n.tr("hint_05_1")


def _class(answer):
    """A class as its index, its English name or its name in the notebook's language."""
    from torchvision.datasets import FashionMNIST

    from .data import CLASS_NAMES, class_names
    if isinstance(answer, Integral) and not isinstance(answer, bool) and 0 <= answer < 10:
        return int(answer)
    if isinstance(answer, str):
        wanted = unicodedata.normalize("NFKC", answer).strip().lower()
        keys = [f"class_{name.replace('-', '_').replace(' ', '_')}" for name in CLASS_NAMES]
        for names in (CLASS_NAMES, [name.lower() for name in class_names()],
                      [name.lower() for name in FashionMNIST.classes],  # "T-shirt/top"
                      *([i18n.MESSAGES[lang][key] for key in keys] for lang in i18n.LANGUAGES)):
            if wanted in names:  # every language's names, drawn in figures or not
                return names.index(wanted)
    raise _WrongForm(i18n.tr("form_class"))


@exercise("05.2")
def _hardest_class(answer, labels, predictions):
    """Which class does the student's own network get right least often (its smallest share
    of correctly classified test images)? Any class tied for the smallest share is right."""
    chosen = _class(answer)
    labels, predictions = torch.as_tensor(labels), torch.as_tensor(predictions)
    if not len(labels) or labels.shape != predictions.shape or labels.min() < 0 \
            or labels.max() > 9:  # an empty run has no hardest class: any would pass
        raise ValueError(f"exercise 05.2 needs your network's labels and predictions: as many "
                         f"of each, at least one, each 0 to 9; got {len(labels)} labels and "
                         f"{len(predictions)} predictions")
    right = torch.bincount(labels[labels == predictions], minlength=10).double()
    images = torch.bincount(labels, minlength=10).double()
    share = torch.where(images > 0, right / images.clamp(min=1), torch.inf)  # no images: no say
    return None if share[chosen] == share.min() else i18n.tr("hint_05_2")


# 07: the family and the book's exercises ---------------------------------------------------

# Exercise 07.1's block, as notebook 07 builds it: Inception(192, 64, (96, 128), (16, 32), 32)
INCEPTION_ARGUMENTS = (192, 64, (96, 128), (16, 32), 32)


@exercise("07.1")
def _inception_channels(answer):
    """Output channels of Inception(192, 64, (96, 128), (16, 32), 32): its paths concatenate."""
    _, c1, c2, c3, c4 = INCEPTION_ARGUMENTS
    expected = c1 + c2[-1] + c3[-1] + c4
    return None if _whole_number(answer) == expected else i18n.tr("hint_07_1")


@exercise("07.2")
def _resnet34(answer):
    """A ResNet-34 built in the notes' way: 34 layers and torchvision's ResNet-34 parameters."""
    if not isinstance(answer, torch.nn.Module):
        raise _WrongForm(i18n.tr("form_network"))
    from .model import resnet34
    layers = count_layers(answer)
    if layers != 34:
        return i18n.tr("hint_07_2_layers", layers=layers)
    with torch.device("meta"):
        expected = count_parameters(resnet34())
    return None if count_parameters(answer) == expected else i18n.tr("hint_07_2_widths")


@exercise("07.3")
def _bottleneck_parameters(answer):
    """Parameters of Bottleneck(1024, 256), ResNet-50's block inside b4."""
    from .blocks import Bottleneck
    with torch.device("meta"):
        expected = count_parameters(Bottleneck(1024, 256))
    return None if _whole_number(answer) == expected else i18n.tr("hint_07_3")


_LAYER_NAMES = {"bn": "bn", "batchnorm": "bn", "batchnorm2d": "bn", "relu": "relu",
                "conv": "conv", "conv2d": "conv", "convolution": "conv",
                "add": "add", "+": "add", "addition": "add", "sum": "add"}


def _layers_in_order(block, X):
    """'conv', 'bn', 'relu' and 'add' in the order ``block(X)`` calls them (read off PyTorch's
    function calls, so a functional F.relu counts as a layer too, and `Y + X` as the add)."""
    from torch.overrides import TorchFunctionMode

    class Record(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            name = getattr(func, "__name__", "")
            kind = ("conv" if name.startswith("conv") else "bn" if name == "batch_norm"
                    else "relu" if name.startswith("relu")
                    else "add" if name in ("add", "add_", "__add__", "__iadd__") else None)
            if kind:
                calls.append(kind)
            return func(*args, **(kwargs or {}))

    calls = []
    with Record():
        block(X)
    return calls


@exercise("07.4")
def _preact_order(answer):
    """The layers and the addition of a PreActResidual, in the order the input meets them."""
    if isinstance(answer, str) or not hasattr(answer, "__iter__") \
            or not all(isinstance(item, str) for item in answer):
        raise _WrongForm(i18n.tr("form_layer_names"))
    answer = [_LAYER_NAMES.get(item.strip().lower().replace(" ", ""), item) for item in answer]
    from .blocks import PreActResidual
    expected = _layers_in_order(PreActResidual(8, 8).eval(), torch.rand(1, 8, 4, 4))
    if answer == expected:
        return None
    if sorted(answer) == sorted(expected):
        return i18n.tr("hint_07_4_order")
    return i18n.tr("hint_07_4_layers")


@exercise("07.5")
def _cost_of_depth(answer):
    """How many times the arithmetic of the 20-layer CIFAR network (n = 3) does the 110-layer
    one (n = 18) spend per 32x32 image? Within 5%: counting blocks by hand is close enough."""
    if isinstance(answer, bool) or not isinstance(answer, Real) or answer <= 0:
        raise _WrongForm(i18n.tr("form_positive_number"))
    from .experiments.twins import cifar_resnet
    from .shapes import count_flops
    expected = count_flops(cifar_resnet(18), (1, 1, 32, 32)) / count_flops(cifar_resnet(3),
                                                                            (1, 1, 32, 32))
    return None if abs(answer / expected - 1) <= 0.05 else i18n.tr("hint_07_5")
