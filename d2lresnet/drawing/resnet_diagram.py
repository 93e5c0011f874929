"""ResNet's architecture (6.3), drawn from the network: one row per stage, as the notes print it.

b1 shows its layers, b2..b5 their residual blocks (an arc over each for its shortcut, dashed
where a 1x1 conv reshapes the input), then the head; the arrow leaving each top-level layer
carries its output shape, from ``trace_shapes`` on the meta device, so any input size is instant.
"""
import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch
from torch import nn

from .primitives import UNIT, arrow, box, forward_steps, layer_label, line, record
from .. import i18n
from ..model import count_layers
from ..shapes import trace_shapes

STAGE_COLORS = ("#d5e8d4", "#ffe6cc", "#f8cecc", "#e1d5e7", "#dae8fc", "#fff2cc")
STEM_COLOR, HEAD_COLOR = "#dae8fc", "#eeeeee"
BW, BH, GAP, SHAPE_GAP, LEFT = 2.4, 0.8, 1.1, 2.4, 1.3  # box size, arrows, the name column
RISE = 0.85  # height of a shortcut above the row
SCALE = 0.82  # this figure is wider than the others: draw it a little smaller


def _is_block(module):
    # A residual block has layers of its own but is not a Sequential.
    return bool(list(module.children())) and not isinstance(module, nn.Sequential)


def _rows(net):
    """Each Sequential (b1, the stages) is a row; the single layers after them share one."""
    rows = []
    for index, part in enumerate(net):
        if rows and not isinstance(part, nn.Sequential) and \
                not isinstance(rows[-1][-1][1], nn.Sequential):
            rows[-1].append((index, part))
        else:
            rows.append([(index, part)])
    return rows


def _shape_text(shape):
    return "×".join(str(size) for size in shape)


def _shortcut(ax, x, y, block):
    """A bracket over the block, from the arrow before it to the arrow after it; it rejoins
    before the next block's shortcut leaves, so the two never share a line."""
    projection = any(step.role == "shortcut" for step in forward_steps(block))
    start, end = x - BW / 2 - 0.35 * GAP, x + BW / 2 + 0.25 * GAP
    style = "--" if projection else "-"
    line(ax, [(start, y), (start, y + RISE), (end, y + RISE)], ls=style)
    arrow(ax, (end, y + RISE), (end, y + 0.02), ls=style)
    if projection:
        ax.text(x, y + RISE + 0.04, i18n.label("shortcut_1x1"), ha="center", va="bottom", fontsize=7.5,
                color="#444444")


def draw_resnet(net, input_size=(1, 1, 224, 224)):
    """ResNet's architecture at ``input_size``: stem, stages of residual blocks, head, with the
    output shape of every top-level layer. Works for any net from ``resnet(...)``."""
    shapes = [tuple(row.shape) for row in trace_shapes(net, input_size)]
    rows = _rows(net)
    layers = {index: list(part) if isinstance(part, nn.Sequential) else [part]
              for index, part in enumerate(net)}
    widths = [sum(len(layers[i]) * (BW + GAP) - GAP + SHAPE_GAP for i, _ in row) for row in rows]
    has_arcs = [any(_is_block(m) for i, _ in row for m in layers[i]) for row in rows]
    heights = [2.05 if arcs else 1.2 for arcs in has_arcs]
    fig, ax = plt.subplots(figsize=((LEFT + max(widths) + 0.3) * UNIT * SCALE,
                                    (sum(heights) + 0.5) * UNIT * SCALE))
    plt.close(fig)  # pyplot lets go of it: shown once, where it is returned or displayed
    ax.set_aspect("equal")
    ax.axis("off")
    y, stage = 0.0, 0
    for row, height, arcs in zip(rows, heights, has_arcs):
        center = y - height + 0.6  # the room above is for the shortcuts
        y -= height
        x = LEFT + BW / 2
        arrow(ax, (LEFT - 0.6, center), (LEFT, center))  # from the row before
        for index, part in row:
            if isinstance(part, nn.Sequential):
                ax.text(0.1, center, f"b{index + 1}", ha="left", va="center", fontsize=11,
                        fontweight="bold")
            color = STAGE_COLORS[stage % len(STAGE_COLORS)] if arcs else (
                STEM_COLOR if index == 0 else HEAD_COLOR)
            if arcs:  # a tinted band behind the stage
                ax.add_patch(FancyBboxPatch(
                    (x - BW / 2 - 0.35 * GAP - 0.15, center - BH / 2 - 0.15),
                    len(layers[index]) * (BW + GAP) - 0.3 * GAP + 0.3, BH / 2 + RISE + 0.45,
                    boxstyle="round,pad=0,rounding_size=0.15", fc=color, alpha=0.35, lw=0,
                    zorder=0))
                stage += 1
            for j, layer in enumerate(layers[index]):
                text = layer_label(layer, wrap=True)
                box(ax, x, center, BW, BH, text, color, fontsize=8)
                if _is_block(layer):
                    _shortcut(ax, x, center, layer)
                last = j == len(layers[index]) - 1
                record(ax, text, (layer,), shapes[index] if last else None)
                end = x + BW / 2 + (SHAPE_GAP if last else GAP)
                arrow(ax, (x + BW / 2, center), (end, center))
                if last:
                    ax.text(x + BW / 2 + 0.45, center + 0.08, _shape_text(shapes[index]),
                            ha="left", va="bottom", fontsize=8, color="#333333")
                x = end + BW / 2
    ax.set_xlim(0, LEFT + max(widths) + 0.3)
    ax.set_ylim(y, 0.25)
    ax.set_title(i18n.label("resnet_title", layers=count_layers(net), shape=_shape_text(input_size)),
                 fontsize=11)
    fig.tight_layout(pad=0.3)
    return fig
