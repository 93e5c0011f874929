"""Everything the module prints or draws for a notebook follows i18n.set_language: each
user-facing string, in both languages, comes from that language's template (the zh one holds
D2L zh's terms), and the structured results (shapes, counts) do not change with the language."""
import io
import os
import subprocess
import sys
import warnings

import matplotlib
import pytest
import torch
from matplotlib import pyplot as plt

from d2lresnet import Bottleneck, PreActResidual, Residual, block_output_shape, i18n, resnet18
from d2lresnet import widgets as widgets_module
from d2lresnet.data import CLASS_NAMES, class_names, get_fashion_mnist_labels
from d2lresnet.drawing.plots import ProgressPlot, plot_confusion_matrix, show_images
from d2lresnet.shapes import trace_shapes
from d2lresnet.train import History
from d2lresnet.widgets import (block_shape_widget, controls, describe_block_shape,
                               describe_stages, describe_trace, format_trace_table,
                               plot_resolution_and_channels, stage_widget, trace_widget)

matplotlib.use("Agg")

MESSAGES = i18n.MESSAGES
HAS_CJK_FONT = i18n.find_cjk_font() is not None


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    i18n.set_language("en")
    plt.close("all")


def expected(language, key, **fields):
    return MESSAGES[language][key].format(**fields)


# A word of each language that the other's template lacks: the text came from language's template.
def in_language(text, language, zh_term, en_term):
    return (zh_term in text and en_term not in text) if language == "zh" else en_term in text


# shapes.block_output_shape: the structure stays, the words follow ---------------------------

def test_block_output_shape_readout(language):
    result = block_output_shape(3, 6, strides=2, use_1x1conv=True)
    assert result.shape == (6, 3, 3) and result.reason == ""
    assert str(result) == expected(language, "block_output", shape=(6, 3, 3))
    assert in_language(str(result), language, "输出形状", "output shape")


def test_channel_mismatch_reason(language):
    result = block_output_shape(3, 6, strides=1, use_1x1conv=False)
    assert result.shape is None and result.reason
    assert result.reason == expected(language, "reason_channels", input_channels=3, num_channels=6)
    assert in_language(result.reason, language, "通道", "channels")
    assert "use_1x1conv=True" in result.reason  # the code to write, in either language
    assert str(result) == expected(language, "cannot_add", reason=result.reason)
    assert in_language(str(result), language, "无法相加", "cannot add")


def test_stride_reason(language):
    result = block_output_shape(3, 3, strides=2, use_1x1conv=False, height=6, width=6)
    assert result.shape is None
    assert result.reason == expected(language, "reason_stride", strides=2, height=6, width=6,
                                     out_height=3, out_width=3)
    assert in_language(result.reason, language, "步幅2", "stride 2")
    assert in_language(result.reason, language, "跨层数据通路", "shortcut")


@pytest.mark.parametrize("arguments, key, zh_term, en_term", [
    (dict(input_channels=0, num_channels=3), "reason_whole_number", "整数", "whole number"),
    (dict(input_channels=3, num_channels=3, use_1x1conv="no"), "reason_true_false",
     "必须是True或False", "must be True or False"),
])
def test_argument_reasons(language, arguments, key, zh_term, en_term):
    result = block_output_shape(**arguments)
    assert result.shape is None
    assert in_language(result.reason, language, zh_term, en_term)
    assert result.reason.startswith("input_channels" if "whole" in en_term else "use_1x1conv")


# blocks.py: the errors a student meets in notebook 02 ----------------------------------------

@pytest.mark.parametrize("make, outputs", [
    (lambda: Residual(3, 6), 6), (lambda: PreActResidual(3, 6), 6),
    (lambda: Bottleneck(3, 6), 24)])
def test_block_refuses_channel_mismatch(language, make, outputs):
    with pytest.raises(ValueError) as error:
        make()
    message = str(error.value)
    assert message == expected(language, "error_channels", input_channels=3, num_channels=outputs)
    assert in_language(message, language, "1×1卷积层", "1x1 convolution")
    assert "use_1x1conv=True" in message


@pytest.mark.parametrize("block", [Residual(3, 3, strides=2), PreActResidual(3, 3, strides=2)])
def test_block_refuses_shape_mismatch_at_addition(language, block):
    with pytest.raises(ValueError) as error:
        block(torch.rand(4, 3, 6, 6))
    message = str(error.value)
    assert message.startswith(type(block).__name__)
    assert "(4, 3, 6, 6)" in message and "(4, 3, 3, 3)" in message  # notebook 02 asserts these
    assert message == expected(language, "error_shapes", block=type(block).__name__,
                               input_shape=(4, 3, 6, 6), output_shape=(4, 3, 3, 3))
    assert in_language(message, language, "无法把输入", "cannot add the input")


def test_block_argument_errors(language):
    with pytest.raises(ValueError) as error:
        Residual(3, 0)
    assert in_language(str(error.value), language, "不小于1的整数", "whole number of at least 1")


def test_whole_number_bounds_in_the_language(language):
    from d2lresnet.data import get_fashion_mnist_labels

    with pytest.raises(ValueError) as error:
        get_fashion_mnist_labels([10])
    assert str(error.value) == expected(language, "reason_whole_number_range", name="a label",
                                        minimum=0, maximum=9, value=10)
    assert in_language(str(error.value), language, "0到9之间的整数", "from 0 to 9")


# widgets: labels, readouts, tables, the resolution/channels plot -----------------------------

def test_block_shape_widget(language, capsys):
    widget = block_shape_widget()
    named = controls(widget)
    assert [named[name].description for name in
            ("input_channels", "num_channels", "strides", "height", "width")] == [
        expected(language, key) for key in ("input_channels", "output_channels", "stride",
                                        "height", "width")]
    assert in_language(named["strides"].description, language, "步幅", "stride")
    capsys.readouterr()
    text = describe_block_shape(3, 6, 2, False, 6, 6)
    header, readout = capsys.readouterr().out.splitlines()
    assert header == expected(language, "block_on_input",
                              call="Residual(3, 6, use_1x1conv=False, strides=2)",
                              channels=3, height=6, width=6)
    assert in_language(header, language, "的输入", "on an input")
    assert readout == text == str(block_output_shape(3, 6, strides=2, use_1x1conv=False))
    assert in_language(text, language, "无法相加", "cannot add")


def test_stage_widget(language, capsys, shown):
    widget = stage_widget()
    named = controls(widget)
    assert named["b3_blocks"].description == expected(language, "stage_blocks", stage="b3")
    assert named["b5_channels"].description == expected(language, "stage_channels", stage="b5")
    assert in_language(named["b3_blocks"].description, language, "残差块数", "blocks")
    assert named["block"].description == expected(language, "block")
    assert [label for label, _ in named["block"].options] == [
        expected(language, "basic_option"), expected(language, "bottleneck_option")]
    assert [block for _, block in named["block"].options] == [Residual, Bottleneck]
    capsys.readouterr()
    summary = describe_stages(2, 2, 2, 2, 64, 128, 256, 512, Residual)
    assert summary == (11_178_378, 18)  # the numbers do not depend on the language
    printed = capsys.readouterr().out.strip()
    assert printed == expected(language, "stage_summary", layers=18,
                               this_is=expected(language, "this_is", name="ResNet-18"),
                               parameters="11,178,378", mib="42.6")
    assert in_language(printed, language, "个参数", "parameters")
    describe_stages(1, 2, 2, 2, 64, 128, 256, 512, Residual)  # no family member: no name
    assert "ResNet" not in capsys.readouterr().out


def test_trace_table_headers(language):
    rows = trace_shapes(resnet18(), (1, 1, 224, 224))
    header, first = format_trace_table(rows).splitlines()[:2]
    assert header.split() == [expected(language, "trace_layer"), *expected(language, "output_shape")
                              .split(), expected(language, "trace_parameters")]
    assert in_language(header, language, "参数数量", "parameters")
    # The columns line up in a terminal, where a Chinese character takes two columns.
    assert i18n.text_width(header) == len(first)
    assert first.split() == ["b1", "(1,", "64,", "56,", "56)", "3,328"]


def test_trace_widget(drawn_language, capsys, shown):
    language = drawn_language
    widget = trace_widget()
    assert controls(widget)["input_size"].description == expected(language, "input_size")
    capsys.readouterr()
    rows = describe_trace(96, widget.kwargs["net"])
    assert rows[4].shape == (1, 512, 3, 3)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == expected(language, "input_shape", shape=(1, 1, 96, 96))
    assert in_language(printed[0], language, "输入", "input")
    plot = shown[-1]
    assert plot.axes[0].get_title() == expected(language, "input_title", size=96)


def test_resolution_and_channels_plot(drawn_language):
    language = drawn_language
    ax = plot_resolution_and_channels(trace_shapes(resnet18(), (1, 1, 224, 224)))
    twin = [other for other in ax.figure.axes if other is not ax][0]
    assert ax.get_ylabel() == expected(language, "height_and_width")
    assert twin.get_ylabel() == expected(language, "num_channels")
    assert ax.get_xlabel() == expected(language, "stage_output")
    assert in_language(twin.get_ylabel(), language, "通道数", "channels")


# plots and data: the training plot, the confusion matrix, class names ------------------------

ZH_CLASSES = ["T恤", "裤子", "套衫", "连衣裙", "外套", "凉鞋", "衬衫", "运动鞋", "包", "短靴"]


def test_class_names(drawn_language):
    names = class_names()
    assert names == (ZH_CLASSES if drawn_language == "zh" else CLASS_NAMES)
    assert get_fashion_mnist_labels(torch.tensor([0, 9, 5])) == [names[0], names[9], names[5]]
    assert CLASS_NAMES[0] == "t-shirt"  # the constant stays English


def test_show_images_titles_in_the_language(drawn_language):
    axes = show_images(torch.rand(2, 28, 28), 1, 2,
                       titles=get_fashion_mnist_labels(torch.tensor([9, 8])))
    assert [ax.get_title() for ax in axes.flat] == (
        ["短靴", "包"] if drawn_language == "zh" else ["ankle boot", "bag"])


def test_history_summary_keeps_the_books_lines(language):
    history = History(device="cpu", precision="bf16", train_loss=[0.5], train_acc=[0.8],
                      test_acc=[0.75], train_seconds=[2.0], compute_seconds=[1.0],
                      examples=[100])
    first, second, third = history.summary().splitlines()
    assert first == "loss 0.500, train acc 0.800, test acc 0.750"  # as the notes print them
    assert second == "50.0 examples/sec on cpu"
    assert third == expected(language, "speed_note", rate="100.0", precision="bf16")
    assert in_language(third, language, "每秒100.0个样本", "data loading included")


# No tofu: every zh figure above renders each glyph --------------------------------------------

def zh_with_font():
    if not HAS_CJK_FONT and not os.environ.get("CI"):
        pytest.skip("no CJK font here (sudo apt-get install fonts-noto-cjk); CI installs one")
    i18n.set_language("zh")


def render_every_glyph(draw):
    """The figures draw() returns, rendered with matplotlib's warnings as errors: "Glyph ...
    missing from font(s)" fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fig in draw():
            fig.savefig(io.BytesIO(), format="png")


def test_zh_widget_figures_draw_every_glyph(shown):
    zh_with_font()

    def draw():
        show_images(torch.rand(10, 28, 28), 2, 5, titles=class_names())
        figures = [plt.gcf()]
        describe_trace(96, trace_widget().kwargs["net"])
        return figures + shown
    render_every_glyph(draw)


def test_the_module_starts_in_english():
    # A fresh interpreter, as the CLI runs: nothing switches the language but set_language.
    code = ("from d2lresnet import i18n, block_output_shape; from d2lresnet import cli; "
            "print(i18n.get_language(), block_output_shape(3, 6))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out.startswith("en cannot add: the input has 3 channels")



class _SaysYes(str):  # equal to everything, one hash for all: "fr" passed as a language
    def __eq__(self, other):
        return True

    def __hash__(self):
        return 0


class _Raises(str):  # comparing, hashing or showing it raises
    def __eq__(self, other):
        raise RuntimeError("eq")

    def __hash__(self):
        raise RuntimeError("hash")

    def __repr__(self):
        raise RuntimeError("repr")


class _NotText:
    def __eq__(self, other):
        return True

    def __repr__(self):
        raise RuntimeError("repr")


@pytest.mark.parametrize("language", [_SaysYes("fr"), _Raises("fr"), _NotText(), None, ["zh"]],
                         ids=["says-yes", "raises", "not-text", "None", "list"])
def test_set_language_refuses_what_is_not_en_or_zh_in_one_line(language):
    with pytest.raises(ValueError) as refused:  # not RuntimeError, KeyError or TypeError
        i18n.set_language(language)
    message = str(refused.value)
    assert message.startswith("language must be one of ('en', 'zh'), got ") and "\n" not in message
    assert i18n.get_language() == "en" and type(i18n.get_language()) is str


@pytest.mark.parametrize("make", [_SaysYes, _Raises])
def test_set_language_keeps_a_plain_str_of_a_str_subclass(make):
    i18n.set_language(make("zh"))
    assert type(i18n.get_language()) is str and i18n.get_language() == "zh"
    assert i18n.tr("conv", k=3, c=64) == "3×3卷积层，64"

# plots.py: the training plot and the confusion matrix ----------------------------------------

def test_progress_plot(drawn_language, monkeypatch):
    language = drawn_language
    monkeypatch.setattr("IPython.display.display", lambda *args, **kwargs: None)
    plot = ProgressPlot(3, live=True)
    plot.add(1, train_loss=0.9, train_acc=0.6)
    plot.add(1, test_acc=0.7)
    legend = [text.get_text() for text in plot.ax.get_legend().get_texts()]
    assert legend == [expected(language, key) for key in ("train_loss", "train_acc", "test_acc")]
    assert plot.ax.get_xlabel() == expected(language, "epoch")
    assert in_language(" ".join(legend), language, "测试精度", "test acc")


def test_a_saved_run_replays_as_its_training_plot(monkeypatch):
    displayed = []
    monkeypatch.setattr("IPython.display.display", lambda fig, **kwargs: displayed.append(fig))
    run = {"train_loss": [0.5, 0.2, 0.1], "train_acc": [0.8, 0.9, 0.95],
           "test_acc": [0.85, 0.88, 0.87]}
    plot = ProgressPlot.replay(run)
    assert displayed == [plot.fig]  # drawn once, not once per epoch
    curves = {line.get_label(): line for line in plot.ax.get_lines()}
    assert list(curves) == [expected("en", key) for key in ("train_loss", "train_acc", "test_acc")]
    for line, key in zip(curves.values(), ("train_loss", "train_acc", "test_acc")):
        assert list(line.get_xdata()) == [1, 2, 3] and list(line.get_ydata()) == run[key]


def test_confusion_matrix(drawn_language):
    language = drawn_language
    labels = torch.tensor([0, 1, 9, 9])
    matrix = plot_confusion_matrix(labels, torch.tensor([0, 6, 9, 7]))
    assert matrix[9, 7] == 1 and matrix.trace() == 2  # counts do not depend on the language
    ax = plt.gcf().axes[0]
    assert ax.get_xlabel() == expected(language, "predicted_class")
    assert ax.get_ylabel() == expected(language, "true_class")
    ticks = [tick.get_text() for tick in ax.get_xticklabels()]
    assert ticks == (ZH_CLASSES if language == "zh" else CLASS_NAMES)


def test_zh_plots_draw_every_glyph(monkeypatch):
    zh_with_font()
    monkeypatch.setattr("IPython.display.display", lambda *args, **kwargs: None)

    def draw():
        plot_confusion_matrix(torch.arange(10), torch.arange(10).flip(0))
        figures = [plt.gcf()]
        progress = ProgressPlot(2, live=True)
        progress.add(1, train_loss=0.5, train_acc=0.8, test_acc=0.7)
        return figures + [progress.fig]
    render_every_glyph(draw)


# degradation, gradients and family (the restructure's modules) -------------------------------

def tiny_results():
    run = dict(loss=[2.0, 1.0], err=[0.5, 0.4])
    return dict(plain={8: [run, run], 14: [run]}, residual={8: [run], 14: [run]})


def test_degradation_plot(drawn_language):
    from d2lresnet.experiments.degradation import plot_degradation
    language = drawn_language
    fig = plot_degradation(tiny_results(), title_extra=i18n.label("smoke_run_note"))
    plain, residual = expected(language, "plain"), expected(language, "residual")
    note = expected(language, "smoke_run_note")
    assert [ax.get_title() for ax in fig.axes] == [
        expected(language, "networks_title", kind=kind, extra=note) for kind in (plain, residual)]
    assert in_language(fig.axes[1].get_title(), language, "残差网络", "residual networks")
    assert fig.axes[0].get_ylabel() == expected(language, "train_loss")
    assert fig.axes[0].get_xlabel() == expected(language, "epoch")
    legend = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert legend == [f"{plain}-{depth}" for depth in (8, 14)]  # one entry per depth, not seed


def test_grad_norms_plot(drawn_language):
    from d2lresnet.experiments.gradients import plot_grad_norms
    language = drawn_language
    ax = plot_grad_norms({"plain-8": [("conv", 1.0), ("conv", 0.1)]})
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == tuple(
        expected(language, key) for key in ("grad_xlabel", "grad_ylabel", "grad_title"))
    assert in_language(ax.get_title(), language, "初始化时的梯度", "gradients at initialisation")


def test_family_table_headers(language):
    from d2lresnet.experiments.family import format_family_table
    rows = [dict(model="ResNet-18", params=11_178_378, made_up=1.5),
            dict(model="ResNet-152", params=58_164_298, made_up=None)]
    header, *lines = format_family_table(rows).splitlines()
    assert header.split() == [expected(language, "col_model"), expected(language, "col_params"),
                              "made_up"]  # a column without an i18n key keeps its name
    assert in_language(header, language, "参数数量", "params")
    assert lines[0].split() == ["ResNet-18", "11,178,378", "1.50"]
    # right-aligned columns end together, a Chinese character taking two columns
    assert {i18n.text_width(line) for line in (header, *lines)} == {len(lines[0])}


def test_zh_degradation_figures_draw_every_glyph():
    from d2lresnet.experiments.degradation import plot_degradation
    from d2lresnet.experiments.gradients import plot_grad_norms
    zh_with_font()

    def draw():
        fig = plot_degradation(tiny_results(), title_extra=i18n.label("smoke_run_note"))
        ax = plot_grad_norms({"plain-8": [("conv", 1.0), ("conv", 0.1)]})
        return [fig, ax.figure]
    render_every_glyph(draw)


def test_no_message_needs_an_emoji_font():
    # A page or a notebook on a machine without an emoji font (Debian's Chromium here) draws
    # such a character as an empty box: the estimate line began with a stopwatch.
    from d2lresnet.i18n.messages import MESSAGES
    emoji = [(language, key, ch) for language, messages in MESSAGES.items()
             for key, text in messages.items() for ch in str(text)
             if 0x2300 <= ord(ch) <= 0x23FF or 0x2600 <= ord(ch) <= 0x26FF
             or ord(ch) >= 0x1F000]
    assert not emoji
