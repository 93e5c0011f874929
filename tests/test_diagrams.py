"""The notes' pictures are drawn from the modules: each box is a layer, in forward order, and the
architecture's shapes are trace_shapes'. Also the language switch and its CJK font."""
import io
import os
import re
import string
import warnings

import matplotlib
import numpy as np
import pytest
import torch
from matplotlib import pyplot as plt
from torch import nn

from d2lresnet import (Bottleneck, PreActResidual, Residual, count_layers, i18n, resnet,
                       resnet18, resnet34, resnet50, trace_shapes)
from d2lresnet.drawing.diagrams import (draw_block, draw_blocks, draw_function_classes,
                                draw_regular_vs_residual, draw_resnet, drawn)

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def english_and_closed():
    yield
    i18n.set_language("en")
    plt.close("all")


def modules(boxes):
    return [box.modules for box in boxes]


def leaves(module):
    return [m for m in module.modules() if not list(m.children())]


def call_order(block, shape=(4, 3, 6, 6)):
    """The leaf layers in the order a real forward pass calls them (hooks, not torch.fx)."""
    order = []
    hooks = [m.register_forward_hook(lambda m, i, o: order.append(m)) for m in leaves(block)]
    block.eval()(torch.rand(shape))
    for hook in hooks:
        hook.remove()
    return order


# 6.2 ------------------------------------------------------------------------------------

def test_block_boxes_are_its_layers_in_forward_order():
    blk = Residual(3, 3)
    boxes = drawn(draw_block(blk))
    assert [b.label for b in boxes] == ["3×3 conv, 3", "batch norm", "ReLU", "3×3 conv, 3",
                                        "batch norm", "+", "ReLU"]
    assert modules(boxes) == [(blk.conv1,), (blk.bn1,), (), (blk.conv2,), (blk.bn2,), (), ()]


def test_the_1x1_conv_appears_on_the_shortcut_only_when_the_block_has_it():
    plain, projected = Residual(3, 3), Residual(3, 6, use_1x1conv=True, strides=2)
    fig = draw_blocks([plain, projected])
    left, right = (drawn(ax) for ax in fig.axes)
    assert "1×1" not in " ".join(b.label for b in left)
    assert [b.label for b in right] == ["3×3 conv, 6, stride 2", "batch norm", "ReLU",
                                        "3×3 conv, 6", "batch norm", "1×1 conv, 6, stride 2",
                                        "+", "ReLU"]
    assert right[5].modules == (projected.shortcut,)
    assert [ax.get_title().splitlines()[0] for ax in fig.axes] == [
        "Residual(3, 3)", "Residual(3, 6, use_1x1conv=True, strides=2)"]


@pytest.mark.parametrize("blk", [
    Residual(3, 3), Residual(3, 6, use_1x1conv=True, strides=2),
    Residual(3, 6, use_1x1conv=True, strides=2, bias=False, shortcut_bn=True),
    Bottleneck(3, 2, use_1x1conv=True), PreActResidual(3, 6, use_1x1conv=True, strides=2)],
    ids=["plain", "1x1", "1x1+bn", "bottleneck", "preact"])
def test_every_block_is_drawn_layer_for_layer_in_the_order_forward_calls_them(blk):
    drawn_layers = [m for b in drawn(draw_block(blk)) for m in b.modules]
    assert drawn_layers == call_order(blk)
    assert len(drawn_layers) == len(leaves(blk))


def test_regular_vs_residual_groups_the_same_layers_and_adds_x_before_the_last_activation():
    blk = Residual(64, 64)
    fig = draw_regular_vs_residual(blk)
    left, right = (drawn(ax) for ax in fig.axes)
    weight1, weight2 = (blk.conv1, blk.bn1), (blk.conv2, blk.bn2)
    assert modules(left) == [weight1, (), weight2, ()]
    assert modules(right) == [weight1, (), weight2, (), ()]
    assert [b.label.splitlines()[0] for b in right] == [
        "weight layer", "activation function", "weight layer", "+", "activation function"]
    assert left[0].label.splitlines()[1] == "3×3 conv, 64 + batch norm"
    for ax, fit in zip(fig.axes, ["$f(\\mathbf{x})$", "$f(\\mathbf{x}) - \\mathbf{x}$"]):
        assert fit in [t.get_text() for t in ax.texts]
        assert any(p.get_linestyle() == "--" for p in ax.patches)  # the dashed box
    # Another block, another picture: its 1x1 conv is drawn on the shortcut.
    other = Residual(3, 6, use_1x1conv=True, strides=2)
    assert (other.shortcut,) in modules(drawn(draw_regular_vs_residual(other).axes[1]))


# 6.3 ------------------------------------------------------------------------------------

def on_meta(build, *args, **kwargs):
    with torch.device("meta"):  # shapes without data: no time spent initialising weights
        return build(*args, **kwargs)


def resnet_layers(net):
    return [layer for part in net
            for layer in (part if isinstance(part, nn.Sequential) else [part])]


def numbers(fig):
    return [int(t.get_text()) for t in fig.axes[0].texts if t.get_gid() == "layer-number"]


CONV_OR_FC = re.compile(r"\d×\d conv, \d+(\nstride \d)?|FC, \d+")


@pytest.mark.parametrize("build, input_size", [(resnet18, (1, 1, 224, 224)),
                                               (resnet34, (1, 1, 96, 96)),
                                               (resnet50, (2, 1, 64, 48))])
def test_resnet_boxes_are_its_layers_and_shapes_are_trace_shapes(build, input_size):
    net = on_meta(build)
    fig = draw_resnet(net, input_size)
    boxes = drawn(fig)
    assert [m for b in boxes for m in b.modules] == resnet_layers(net)
    shapes = [tuple(row.shape) for row in trace_shapes(net, input_size)]
    assert [b.shape for b in boxes if b.shape] == shapes
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert all("×".join(map(str, shape)) in texts for shape in shapes)
    assert f"ResNet-{count_layers(net)}" in fig.axes[0].get_title()


@pytest.mark.parametrize("build, depth", [(resnet18, 18), (resnet34, 34), (resnet50, 50)])
def test_the_depth_in_the_name_can_be_counted_on_the_picture(build, depth):
    """One numbered box per main-path conv and the FC layer; the 1x1 shortcuts are not boxes."""
    net = on_meta(build)
    fig = draw_resnet(net)
    assert numbers(fig) == list(range(1, depth + 1))
    assert [n for b in drawn(fig) for n in b.numbers] == numbers(fig)  # drawn() reports them
    boxed = [t.get_text() for t in fig.axes[0].texts if CONV_OR_FC.fullmatch(t.get_text())]
    main_convs = [m for name, m in net.named_modules()
                  if isinstance(m, nn.Conv2d) and "shortcut" not in name]
    assert len(boxed) == len(main_convs) + 1 == depth  # the stem, the blocks' convs, the FC


def test_resnet_picture_follows_the_builder():
    net = on_meta(resnet18)
    fig = draw_resnet(net)
    boxes = drawn(fig)
    labels = [b.label for b in boxes]
    stem = net[0]
    assert labels[:2] == ["7×7 conv, 64, stride 2", "3×3 max-pool, stride 2"]
    assert boxes[0].modules == (stem[0], stem[1], stem[2])  # the conv with its BN and ReLU
    assert labels[2:4] == ["3×3 conv, 64 → 3×3 conv, 64"] * 2  # b2: two convs per block
    assert labels[4] == "3×3 conv, 128, stride 2 → 3×3 conv, 128"
    assert labels[-3:] == ["global avg-pool", "flatten", "FC, 10"]
    assert [b.numbers for b in boxes[:6]] == [(1,), (), (2, 3), (4, 5), (6, 7), (8, 9)]
    assert boxes[-1].numbers == (18,)
    # one dashed bracket per block whose shortcut has a 1x1 conv: b3, b4, b5
    assert sum(line.get_linestyle() == "--" for line in fig.axes[0].lines) == 3
    # other depths and widths (notebook 03's widget), built on the meta device
    net = on_meta(resnet, (1, 3, 1, 1), (16, 32, 64, 128), num_classes=7)
    fig = draw_resnet(net, (1, 1, 32, 32))
    labels = [b.label for b in drawn(fig)]
    assert labels.count("3×3 conv, 32 → 3×3 conv, 32") == 2 and labels[-1] == "FC, 7"
    assert len(labels) == 2 + 6 + 3
    assert numbers(fig) == list(range(1, 1 + 2 * 6 + 1 + 1)) and count_layers(net) == 14


# 6.1 ------------------------------------------------------------------------------------

def ellipses(ax):
    return [p for p in ax.patches if re.fullmatch(r"F\d", p.get_gid() or "")]


def inside(patch, points):
    unit = patch.get_patch_transform().inverted().transform(points)  # the unit circle's frame
    return np.hypot(*unit.T) <= 1 + 1e-9


def boundary(patch):
    return patch.get_patch_transform().transform(patch.get_path().interpolated(20).vertices)


def distance(patch, point):
    return 0.0 if inside(patch, [point])[0] else np.hypot(*(boundary(patch) - point).T).min()


def test_function_classes_nested_only_get_closer_non_nested_move_away():
    fig = draw_function_classes()
    left, right = fig.axes
    assert [b.label for b in drawn(left)] == [f"F{i}" for i in range(1, 7)] + ["f*"]
    star = np.array(next(line for line in right.lines if line.get_gid() == "f*").get_xydata()[0])
    nested, non_nested = ellipses(right), ellipses(left)
    assert all(inside(big, boundary(small)).all() for small, big in zip(nested, nested[1:]))
    gaps = [distance(e, star) for e in nested]
    assert gaps == sorted(gaps, reverse=True) and gaps[-1] < gaps[0]
    assert not all(inside(big, boundary(small)).all()
                   for small, big in zip(non_nested, non_nested[1:]))
    gaps = [distance(e, star) for e in non_nested]
    assert gaps[2] < gaps[0] and gaps[5] > gaps[2]  # F3 nearer than F1, F6 farther again


# Language and fonts -----------------------------------------------------------------------

def fields(template):
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_languages_have_every_message_with_the_same_fields():
    en, zh = i18n.MESSAGES["en"], i18n.MESSAGES["zh"]
    assert en.keys() == zh.keys()
    assert all(fields(en[key]) == fields(zh[key]) for key in en)
    # Chinese punctuation in Chinese text. A run of ASCII with a letter or digit in it is code or
    # a formula (Residual(8, 8), [2, 4], -1 + (2i + 1)/k) and keeps Python's punctuation; what
    # is left between Chinese words must be Chinese punctuation.
    code_or_formula = r"[\x20-\x7e]*[A-Za-z0-9][\x20-\x7e]*"
    for key, text in zh.items():
        assert not re.search(r"[,;:()!?]", re.sub(code_or_formula, "", text)), (key, text)


def test_switch_defaults_to_english_and_rejects_other_languages():
    assert i18n.get_language() == "en" and i18n.tr("global_avg_pool") == "global avg-pool"
    fonts = dict(matplotlib.rcParams)
    i18n.set_language("zh")
    assert i18n.get_language() == "zh" and i18n.tr("conv", k=3, c=64) == "3×3卷积层，64"
    font = i18n.find_cjk_font()
    assert matplotlib.rcParams["font.sans-serif"][0] == font or font is None
    i18n.set_language("en")  # and matplotlib's fonts are as they were
    assert dict(matplotlib.rcParams) == fonts
    i18n.set_language("zh")
    with pytest.raises(ValueError, match="zh"):
        i18n.set_language("fr")


@pytest.mark.parametrize("folder, env, language", [
    ("zh", None, "zh"), ("en", None, "en"), ("content", None, "en"),  # Colab runs in /content
    ("content", "zh", "zh"), ("en", "zh", "zh")])
def test_a_notebook_takes_its_language_from_its_folder_unless_told(folder, env, language,
                                                                   tmp_path, monkeypatch):
    (tmp_path / folder).mkdir()
    monkeypatch.chdir(tmp_path / folder)  # Jupyter and nbval run a kernel in its notebook's folder
    if env:
        monkeypatch.setenv("D2LRESNET_LANG", env)
    else:
        monkeypatch.delenv("D2LRESNET_LANG", raising=False)
    assert i18n.set_notebook_language() == language == i18n.get_language()


def test_an_unknown_language_in_the_environment_is_refused(monkeypatch):
    monkeypatch.setenv("D2LRESNET_LANG", "fr")
    with pytest.raises(ValueError, match="D2LRESNET_LANG must be one of"):
        i18n.set_notebook_language()
    assert i18n.get_language() == "en"


def test_zh_figures_draw_every_glyph():
    if i18n.find_cjk_font() is None and not os.environ.get("CI"):
        pytest.skip("no CJK font here (sudo apt-get install fonts-noto-cjk); CI installs one")
    i18n.set_language("zh")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" becomes an error
        figs = [draw_function_classes(), draw_regular_vs_residual(),
                draw_blocks([Residual(3, 3), Residual(3, 6, use_1x1conv=True, strides=2)]),
                draw_resnet(on_meta(resnet18))]
        for fig in figs:
            fig.savefig(io.BytesIO(), format="png")  # render every glyph
    labels = " ".join([b.label for fig in figs for b in drawn(fig)]
                       + [ax.get_title() for fig in figs for ax in fig.axes])
    assert all(term in labels for term in ["残差块", "卷积层", "全局平均汇聚层", "全连接层", "批量规范化层",
                                           "步幅", "最大汇聚层", "加权层", "激活函数"])


def test_without_a_cjk_font_figures_fall_back_to_english_after_one_line(monkeypatch, capsys):
    monkeypatch.setattr(i18n, "find_cjk_font", lambda: None)
    monkeypatch.setattr(i18n, "_warned", False)
    sans = list(matplotlib.rcParams["font.sans-serif"])
    i18n.set_language("zh")
    i18n.set_language("zh")
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 1 and "fonts-noto-cjk" in printed[0]
    assert i18n.tr("fc_layer") == "全连接层"          # printed text stays Chinese
    assert i18n.label("fc_layer") == "fully connected layer"
    assert drawn(draw_resnet(on_meta(resnet18)))[-1].label == "FC, 10"
    assert matplotlib.rcParams["font.sans-serif"] == sans
