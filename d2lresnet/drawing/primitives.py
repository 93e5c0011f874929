"""What the diagrams are made of: boxes, arrows, and labels read from the modules.

``forward_steps(block)`` traces a block with torch.fx, so a diagram shows the layers in the
order ``forward`` calls them; ``layer_label(module)`` names a layer from its attributes, in the
language chosen with ``i18n.set_language``; ``drawn(fig)`` lists the boxes a figure drew.
"""
import operator
from typing import NamedTuple

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch
from torch import fx, nn

from ..blocks import Bottleneck, PreActResidual, Residual
from .. import i18n

UNIT = 0.62  # inches per unit of the drawing coordinates
COLORS = {"conv": "#cfe2f3", "norm": "#fff2cc", "act": "#d9ead3", "pool": "#f4cccc",
          "fc": "#ead1dc", "other": "#eeeeee"}
BLOCK_NAMES = {Residual: "residual_block", Bottleneck: "bottleneck_block",
               PreActResidual: "preact_block"}


class Box(NamedTuple):
    label: str     # the text in the box
    modules: tuple  # the layers it stands for; () for F.relu, the addition and concepts
    shape: tuple | None = None  # the output shape written beside it, where one is shown
    numbers: tuple = ()  # the place in the depth count of the counted layers it draws


def drawn(fig_or_ax):
    """The boxes a draw function drew, panel by panel, in drawing order."""
    axes = fig_or_ax.axes if isinstance(fig_or_ax, Figure) else [fig_or_ax]
    return [b for ax in axes for b in getattr(ax, "d2l_boxes", [])]


def record(ax, label, modules=(), shape=None, numbers=()):
    if not hasattr(ax, "d2l_boxes"):
        ax.d2l_boxes = []
    ax.d2l_boxes.append(Box(label, tuple(modules), shape, tuple(numbers)))


# Labels and the order of the layers, read from the modules ---------------------------------

def first(value):
    return value[0] if isinstance(value, tuple) else value


NAMED = {nn.BatchNorm2d: "bn_layer", nn.ReLU: "relu", nn.Flatten: "flatten",
         nn.AdaptiveAvgPool2d: "global_avg_pool"}


def layer_label(module, wrap=False):
    """A layer's label in the current language, e.g. "3×3 conv, 64, stride 2" (the stride on
    a second line when ``wrap``); a residual block's is its kind and its output channels."""
    if type(module) in BLOCK_NAMES:
        convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
        channels = str(max(m.out_channels for m in convs))
        return (i18n.label(BLOCK_NAMES[type(module)]) + "\n"
                + _with_stride(channels, max(first(m.stride) for m in convs)))
    if isinstance(module, nn.Linear):
        return i18n.label("fc", n=module.out_features)
    if type(module) in NAMED:
        return i18n.label(NAMED[type(module)])
    if isinstance(module, nn.Conv2d):
        text = i18n.label("conv", k=first(module.kernel_size), c=module.out_channels)
    elif isinstance(module, nn.MaxPool2d):
        text = i18n.label("max_pool", k=first(module.kernel_size))
    else:
        return type(module).__name__
    return _with_stride(text, first(module.stride), wrap)


def _with_stride(text, stride, wrap=False):
    if stride == 1:
        return text
    if wrap:
        return text + "\n" + i18n.label("stride_n", s=stride)
    return i18n.label("with_stride", label=text, s=stride)


def kind(module):
    """The colour group of a layer: conv, norm, act, pool, fc or other."""
    for types, name in [(nn.Conv2d, "conv"), (nn.BatchNorm2d, "norm"), (nn.ReLU, "act"),
                        ((nn.MaxPool2d, nn.AdaptiveAvgPool2d), "pool"), (nn.Linear, "fc")]:
        if isinstance(module, types):
            return name
    return "other"


class Step(NamedTuple):
    label: str
    modules: tuple  # (the layer,) or () for F.relu and the addition
    role: str       # "main" (the residual branch), "shortcut", "add" or "after" (after the sum)


class _Tracer(fx.Tracer):
    def to_bool(self, obj):
        # The blocks compare shapes before adding, to fail with a clear message; a traced value
        # has no shape, so let the check pass: only the order of the calls is wanted here.
        return False


def _is_relu(node):  # F.relu or torch.relu
    return node.op == "call_function" and getattr(node.target, "__name__", "") == "relu"


def _is_add(node):
    return node.op == "call_function" and node.target in (operator.add, operator.iadd)


def _ancestors(node):
    seen, todo = set(), [node]
    while todo:
        for parent in todo.pop().all_input_nodes:
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen | {node}


def forward_steps(block):
    """The layers, ReLUs and the addition of ``block.forward`` in call order, traced by torch.fx."""
    graph = _Tracer().trace(block)
    nodes = [n for n in graph.nodes if n.op == "call_module" or _is_relu(n) or _is_add(n)]
    add = next((n for n in nodes if _is_add(n)), None)
    main = shortcut = set()
    if add is not None:
        main, shortcut = sorted((_ancestors(arg) for arg in add.args), key=len, reverse=True)
    steps = []
    for node in nodes:
        if node.op == "call_module":
            module = block.get_submodule(node.target)
            text, modules = layer_label(module), (module,)
        else:
            text, modules = ("+" if node is add else i18n.label("relu")), ()
        role = ("add" if node is add else "shortcut" if node in shortcut - main
                else "main" if add is None or node in main else "after")
        steps.append(Step(text, modules, role))
    return steps


# Drawing primitives -------------------------------------------------------------------------

def box(ax, x, y, w, h, text, color, fontsize=10):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, fc=color, ec="#444444", lw=1,
                                boxstyle="round,pad=0,rounding_size=0.1", zorder=2))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=3)


def arrow(ax, start, end, ls="-"):
    ax.annotate("", xy=end, xytext=start, zorder=1, arrowprops=dict(
        arrowstyle="-|>", color="#444444", lw=1.2, ls=ls, shrinkA=0, shrinkB=0,
        mutation_scale=12))


def line(ax, points, **kwargs):
    xs, ys = zip(*points)
    ax.plot(xs, ys, color="#444444", lw=1.2, zorder=1, solid_capstyle="butt", **kwargs)


def panels(n, width, height, titles):
    fig, axes = plt.subplots(1, n, figsize=(n * width * UNIT, height * UNIT), squeeze=False)
    plt.close(fig)  # pyplot lets go of it: shown once, where it is returned or displayed
    for ax, title in zip(axes.flat, titles):
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(title, fontsize=11)
    return fig, list(axes.flat)
