"""The notes' figures, drawn with matplotlib from the modules themselves, so that a picture
cannot disagree with the code: function classes (6.1), the regular and the residual block and
the block with and without the 1x1 convolution (6.2), and ResNet's architecture (6.3).

Every function returns a Figure that pyplot has already let go of (``plt.close``), so a notebook
shows it once, where it is returned or passed to ``display``, and a widget can redraw it any
number of times without piling up open figures. ``drawn(fig)`` lists what it drew, panel by panel, as
``Box(label, modules, shape, numbers)``: the text, the layers a box stands for, the shape shown,
and (in the architecture) the numbers of the layers the depth counts.

    from d2lresnet import Residual, diagrams, resnet18
    diagrams.draw_blocks([Residual(3, 3), Residual(3, 6, use_1x1conv=True, strides=2)])
    diagrams.draw_resnet(resnet18(), input_size=(1, 1, 96, 96))
"""
import numpy as np
from matplotlib.patches import Circle, Ellipse, Rectangle
from torch import nn

from ..blocks import Residual
from .primitives import (COLORS, UNIT, Box, arrow, box, drawn, first, forward_steps, kind,
                      layer_label, line, panels, record)
from .. import i18n
from .resnet_diagram import draw_resnet

__all__ = ["Box", "drawn", "forward_steps", "layer_label", "draw_function_classes",
           "draw_regular_vs_residual", "draw_block", "draw_blocks", "draw_resnet"]


# 6.2: the block, bottom to top as in D2L ----------------------------------------------------

W, SW, GAP, TALL = 4.1, 2.7, 0.35, 0.7  # main and shortcut box widths; short and long arrows
X_SHORT = W / 2 + 0.6 + SW / 2         # centre of the shortcut column
R = 0.2                                # radius of the ⊕
PANEL = X_SHORT + SW / 2 + W / 2 + 0.6  # width of one panel


def _height(text):
    return 0.32 + 0.3 * (text.count("\n") + 1)


def _stack(ax, items, x, below, gap, width, fontsize=10):
    """Boxes upwards from y=below, each after an arrow; returns the new top."""
    for text, modules, color in items:
        h = _height(text)
        arrow(ax, (x, below), (x, below + gap))
        box(ax, x, below + gap + h / 2, width, h, text, color, fontsize)
        record(ax, text, modules)
        below, gap = below + gap + h, GAP
    return below


def _flow(ax, main, shortcut=(), add=False, after=(), fit=None, summed=None):
    """Input x, the main branch, ⊕ fed by the shortcut column, then the layers after the sum.
    main/shortcut/after: lists of (label, modules, colour); fit: the text for the dashed box
    around main; summed: the text on the arrow out of ⊕. Returns the top y."""
    ax.text(0, 0, "$\\mathbf{x}$", ha="center", va="center", fontsize=13)
    top, gap = _stack(ax, main, 0, 0.2, 0.5, W), GAP
    if fit:
        pad, bottom = 0.13, 0.7 - 0.13
        ax.add_patch(Rectangle((-W / 2 - pad, bottom), W + 2 * pad, top + pad - bottom,
                               fill=False, ls="--", lw=1.2, ec="#666666", zorder=1))
        ax.text(0.15, top + pad + TALL / 2, fit, va="center", fontsize=12)
        top, gap = top + pad, TALL
    if add:
        y = top + gap + R
        # The shortcut leaves x below the branch and joins the sum from the right.
        split = 0.42
        line(ax, [(0, split), (X_SHORT, split)])
        ax.plot(0, split, "o", color="#444444", ms=4, zorder=3)
        heights = [_height(text) for text, _, _ in shortcut]
        start = (split + y - sum(heights) - GAP * (len(heights) + 1)) / 2
        cursor = _stack(ax, shortcut, X_SHORT, split, start - split + GAP, SW, fontsize=9)
        line(ax, [(X_SHORT, cursor), (X_SHORT, y)])
        arrow(ax, (X_SHORT, y), (R, y))
        arrow(ax, (0, top), (0, y - R))
        ax.add_patch(Circle((0, y), R, fc="white", ec="#444444", lw=1.2, zorder=2))
        ax.text(0, y, "+", ha="center", va="center", fontsize=13, zorder=3)
        record(ax, "+")
        top, gap = y + R, (TALL if summed else GAP)
        if summed:
            ax.text(0.15, top + TALL / 2, summed, va="center", fontsize=12)
    top = _stack(ax, after, 0, top, gap, W)
    arrow(ax, (0, top), (0, top + 0.5))
    return top + 0.5


def _fit(fig, axes, top):
    for ax in axes:
        ax.set_xlim(-W / 2 - 0.3, X_SHORT + SW / 2 + 0.3)
        ax.set_ylim(-0.35, top + 0.1)
    lines = max(ax.get_title().count("\n") + 1 for ax in axes)
    fig.set_size_inches(len(axes) * PANEL * UNIT + 0.2, (top + 0.45) * UNIT + 0.22 * lines + 0.1)
    fig.tight_layout(pad=0.3)


def _colored(steps):
    return [(s.label, s.modules, COLORS[kind(s.modules[0]) if s.modules else "act"])
            for s in steps]


def _by_role(steps, role):
    return [s for s in steps if s.role == role]


def constructor_call(block):
    """The call that builds ``block``, read back from its layers, e.g.
    "Residual(3, 6, use_1x1conv=True, strides=2)"."""
    steps = forward_steps(block)
    shortcut = [m for s in _by_role(steps, "shortcut") for m in s.modules]
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    stride = max(first(m.stride) for m in convs)
    args = [str(convs[0].in_channels),
            str(max(m.out_channels for m in convs) // getattr(block, "expansion", 1))]
    args += ["use_1x1conv=True"] * bool(shortcut) + [f"strides={stride}"] * (stride > 1)
    args += ["bias=False"] * (convs[0].bias is None)
    args += ["shortcut_bn=True"] * any(kind(m) == "norm" for m in shortcut)
    return f"{type(block).__name__}({', '.join(args)})"


def draw_blocks(blocks):
    """Blocks side by side, bottom to top as in D2L, each titled with the call that builds it:
    the residual branch in the middle, the shortcut on the right, ⊕ before the last ReLU."""
    steps = [forward_steps(block) for block in blocks]
    titles = [constructor_call(block) + "\n"
              + i18n.label("with_1x1" if _by_role(s, "shortcut") else "without_1x1")
              for block, s in zip(blocks, steps)]
    fig, axes = panels(len(blocks), PANEL, 1, titles)
    tops = [_flow(ax, _colored(_by_role(s, "main")), _colored(_by_role(s, "shortcut")), True,
                  _colored(_by_role(s, "after")))
            for ax, s in zip(axes, steps)]
    _fit(fig, axes, max(tops))
    return fig


def draw_block(block):
    """One block: ``draw_blocks([block])``."""
    return draw_blocks([block])


def _weight_layers(steps):
    """D2L's abstraction of a branch: the layers between two activations form one weight
    layer (in evaluation mode conv and BN are both affine maps, so their composition is one;
    in training mode BN normalises with the batch's statistics); each activation is its own box."""
    groups = []  # (is a weight layer, its steps)
    for step in steps:
        weight = bool(step.modules) and kind(step.modules[0]) != "act"
        if weight and groups and groups[-1][0]:
            groups[-1][1].append(step)
        else:
            groups.append((weight, [step]))
    return [(i18n.label("weight_layer" if weight else "activation") + "\n"
             + " + ".join(s.label for s in group), tuple(m for s in group for m in s.modules),
             COLORS["conv" if weight else "act"]) for weight, group in groups]


def draw_regular_vs_residual(block=None):
    """6.2: a regular block (left) must fit f(x) inside its dashed box; the residual block
    (right) fits f(x) − x, and x is added back before the last activation. Both are
    ``block``'s own layers (default ``Residual(64, 64)``), without and with its shortcut."""
    block = Residual(64, 64) if block is None else block
    steps = forward_steps(block)
    main, after = (_weight_layers(_by_role(steps, role)) for role in ("main", "after"))
    fig, axes = panels(2, PANEL, 1, [i18n.label("regular_block"), i18n.label("residual_block")])
    f = "$f(\\mathbf{x})$"
    tops = [_flow(axes[0], main, after=after, fit=f),
            _flow(axes[1], main, _colored(_by_role(steps, "shortcut")), True, after,
                  fit="$f(\\mathbf{x}) - \\mathbf{x}$", summed=f)]
    _fit(fig, axes, max(tops))
    for ax in axes:  # the titles over the main column, which both panels share
        ax.title.set_x((W / 2 + 0.3) / PANEL)
    return fig


# 6.1: function classes -------------------------------------------------------------------

STAR = (4.4, 3.0)  # f*
ASPECT = 0.65      # height / width of every ellipse
CLASS_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf")


def _nested():
    # In (x, y / ASPECT) the ellipses are circles; a circle whose centre moves less than its
    # radius grows contains the previous one, so F1 ⊆ F2 ⊆ ... while drifting towards f*.
    (x, v), (sx, sv), a = (1.2, 1.3 / ASPECT), (STAR[0], STAR[1] / ASPECT), 0.6
    dx, dv = sx - x, sv - v
    norm = (dx * dx + dv * dv) ** 0.5
    ellipses = []
    for _ in range(6):
        ellipses.append(((x, v * ASPECT), a))
        x, v, a = x + 0.35 * dx / norm, v + 0.35 * dv / norm, a + 0.45
    return ellipses


# Growing, but the largest drift away from f*: F3 is the closest, F6 is farther again.
NON_NESTED = [((1.2, 1.3), 0.6), ((2.0, 1.8), 0.8), ((3.0, 2.4), 1.0),
              ((3.6, 1.5), 1.2), ((3.0, 0.9), 1.4), ((2.2, 0.8), 1.7)]
NON_NESTED_LABELS = (180, 120, 90, 0, -50, 215)  # the angle of each label, clear of the others


def draw_function_classes():
    """6.1: non-nested function classes F1..F6 (left) whose largest member moves away from f*,
    and nested ones F1 ⊆ ... ⊆ F6 (right) that only get closer."""
    fig, axes = panels(2, 6.6, 5.0, [i18n.label("non_nested_classes"), i18n.label("nested_classes")])
    # Each label at (angle, distance from the centre): on the left just outside its ellipse,
    # on the right inside the band the class adds to the one before, widest towards f*.
    for ax, ellipses, places in [
            (axes[0], NON_NESTED, [(angle, a + 0.3) for angle, (_, a) in
                                   zip(NON_NESTED_LABELS, NON_NESTED)]),
            (axes[1], _nested(), [(80, a - 0.3) for _, a in _nested()])]:
        for i, (((x, y), a), (angle, r)) in enumerate(zip(ellipses, places)):
            color = CLASS_COLORS[i]
            ax.add_patch(Ellipse((x, y), 2 * a, 2 * a * ASPECT, fc=color, alpha=0.06,
                                 gid=f"F{i + 1}-fill"))
            ax.add_patch(Ellipse((x, y), 2 * a, 2 * a * ASPECT, fill=False, ec=color, lw=2,
                                 gid=f"F{i + 1}"))
            theta = np.deg2rad(angle)
            ax.text(x + r * np.cos(theta), y + r * ASPECT * np.sin(theta),
                    f"$\\mathcal{{F}}_{i + 1}$", ha="center", va="center", fontsize=14,
                    color=color)
            record(ax, f"F{i + 1}")
        ax.plot(*STAR, marker="*", ms=18, color="#d62728", gid="f*", zorder=3)
        ax.text(STAR[0] + 0.25, STAR[1] + 0.1, "$f^*$", fontsize=14, color="#d62728")
        record(ax, "f*")
        ax.set_xlim(-0.6, 5.9)
        ax.set_ylim(-0.6, 4.1)
    fig.tight_layout()
    return fig
