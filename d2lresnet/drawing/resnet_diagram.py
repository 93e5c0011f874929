"""ResNet's architecture (6.3), drawn from the network: one row per stage, as the notes print it.

Every box is one convolution or linear layer with the batch norm and ReLU that go with it (the
paper's and D2L's granularity), or a layer without weights (pooling, flatten), in the stem as in
the blocks. The layers the name counts (main-path convs and the FC layer) carry their number, so
the 18 of ResNet-18 can be counted on the picture. A frame holds each residual block's convs; the
bracket over it is the shortcut, dashed where a 1x1 conv (not counted) reshapes the input. The
arrow leaving each top-level layer carries its output shape, from ``trace_shapes`` on the meta
device, so any input size is instant.
"""
import itertools
from typing import NamedTuple

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch
from torch import nn

from .primitives import UNIT, arrow, box, forward_steps, kind, layer_label, line, record
from .. import i18n
from ..model import count_layers
from ..shapes import trace_shapes

STAGE_COLORS = ("#d5e8d4", "#ffe6cc", "#f8cecc", "#e1d5e7", "#dae8fc", "#fff2cc")
STEM_COLOR, HEAD_COLOR = "#dae8fc", "#eeeeee"
BW, BH, GAP, INNER, SHAPE_GAP, LEFT = 2.4, 0.8, 1.1, 0.5, 2.4, 1.3  # boxes, arrows, name column
RISE = 0.85  # height of a shortcut above the row
SCALE = 0.82  # this figure is wider than the others: draw it a little smaller


class _Unit(NamedTuple):
    modules: tuple  # what ``drawn`` reports: a block, or the layers of one box
    boxes: list     # the boxes drawn for it, each a list of layers (a block has two or three)
    block: nn.Module | None = None


def _is_block(module):
    # A residual block has layers of its own but is not a Sequential.
    return bool(list(module.children())) and not isinstance(module, nn.Sequential)


def _weighted(layer):
    return kind(layer) in ("conv", "fc")


def _boxes(layers):
    """One box per conv or linear layer, with the batch norm and ReLU that follow it (those
    before the first, as in a pre-activation block, join it); other layers alone."""
    boxes, pending = [], []
    for layer in layers:
        if kind(layer) in ("norm", "act") and boxes and any(map(_weighted, boxes[-1])):
            boxes[-1].append(layer)
        elif kind(layer) in ("norm", "act"):
            pending.append(layer)
        else:
            boxes.append(pending + [layer])
            pending = []
    return boxes + ([pending] if pending else [])


def _units(part):
    """The units of one top-level layer of ``net``: a box per conv (with its BN and ReLU) or
    other layer, a framed group of boxes per residual block."""
    layers = list(part) if isinstance(part, nn.Sequential) else [part]
    units = []
    for are_blocks, run in itertools.groupby(layers, key=_is_block):
        if not are_blocks:
            units += [_Unit(tuple(box), [box]) for box in _boxes(list(run))]
            continue
        for block in run:
            main = [m for step in forward_steps(block) if step.role == "main" for m in step.modules]
            units.append(_Unit((block,), _boxes(main), block))
    return units


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


def _width(unit):
    return len(unit.boxes) * BW + (len(unit.boxes) - 1) * INNER


def _row_width(units):
    return sum(sum(_width(u) + GAP for u in part_units) - GAP + SHAPE_GAP for part_units in units)


def _shape_text(shape):
    return "×".join(str(size) for size in shape)


def _label(layers):
    named = next((m for m in layers if _weighted(m)), layers[0])
    return layer_label(named, wrap=True)


def _shortcut(ax, left, right, y, block):
    """A bracket over the block, from the arrow before it to the arrow after it; it rejoins
    before the next block's shortcut leaves, so the two never share a line."""
    projection = any(step.role == "shortcut" for step in forward_steps(block))
    start, end = left - 0.35 * GAP, right + 0.25 * GAP
    style = "--" if projection else "-"
    line(ax, [(start, y), (start, y + RISE), (end, y + RISE)], ls=style)
    arrow(ax, (end, y + RISE), (end, y + 0.02), ls=style)
    if projection:
        ax.text((left + right) / 2, y + RISE + 0.04, i18n.label("shortcut_1x1"), ha="center",
                va="bottom", fontsize=7.5, color="#444444")


def _number(ax, x, y, n):
    """The layer's place in the count, on the top-left corner of its box."""
    ax.text(x, y, str(n), ha="center", va="center", fontsize=6.5, zorder=4, gid="layer-number",
            bbox=dict(boxstyle="circle,pad=0.2", fc="white", ec="#444444", lw=0.8))


def draw_resnet(net, input_size=(1, 1, 224, 224)):
    """ResNet's architecture at ``input_size``: stem, stages of residual blocks, head, with the
    output shape of every top-level layer. Works for any net from ``resnet(...)``."""
    shapes = [tuple(row.shape) for row in trace_shapes(net, input_size)]
    rows = _rows(net)
    units_of = {index: _units(part) for index, part in enumerate(net)}  # traces each block once
    has_arcs = [any(u.block is not None for i, _ in row for u in units_of[i]) for row in rows]
    heights = [2.05 if arcs else 1.3 for arcs in has_arcs]
    width = LEFT + max(_row_width([units_of[i] for i, _ in row]) for row in rows) + 0.3
    fig, ax = plt.subplots(figsize=(width * UNIT * SCALE, (sum(heights) + 1.3) * UNIT * SCALE))
    plt.close(fig)  # pyplot lets go of it: shown once, where it is returned or displayed
    ax.set_aspect("equal")
    ax.axis("off")
    y, stage, counted = 0.0, 0, 0
    for row, height, arcs in zip(rows, heights, has_arcs):
        center = y - height + 0.6  # the room above is for the shortcuts
        y -= height
        x = LEFT  # the left edge of the next unit
        arrow(ax, (LEFT - 0.6, center), (LEFT, center))  # from the row before
        for index, part in row:
            units = units_of[index]
            if isinstance(part, nn.Sequential):
                ax.text(0.1, center, f"b{index + 1}", ha="left", va="center", fontsize=11,
                        fontweight="bold")
            color = STAGE_COLORS[stage % len(STAGE_COLORS)] if arcs else (
                STEM_COLOR if index == 0 else HEAD_COLOR)
            if arcs:  # a tinted band behind the stage
                span = sum(_width(u) + GAP for u in units) - GAP
                ax.add_patch(FancyBboxPatch(
                    (x - 0.35 * GAP - 0.15, center - BH / 2 - 0.2), span + 0.6 * GAP + 0.3,
                    BH / 2 + RISE + 0.5, boxstyle="round,pad=0,rounding_size=0.15", fc=color,
                    alpha=0.35, lw=0, zorder=0))
                stage += 1
            for j, unit in enumerate(units):
                left, numbers = x, []
                if unit.block is not None:  # the block's frame, then its convs inside
                    ax.add_patch(FancyBboxPatch(
                        (left - 0.15, center - BH / 2 - 0.12), _width(unit) + 0.3, BH + 0.24,
                        boxstyle="round,pad=0,rounding_size=0.12", fc="white", alpha=0.6,
                        ec="#777777", lw=0.8, zorder=0.5))
                for k, layers in enumerate(unit.boxes):
                    box(ax, x + BW / 2, center, BW, BH, _label(layers), color, fontsize=8)
                    if any(_weighted(m) for m in layers):
                        counted += 1
                        numbers.append(counted)
                        _number(ax, x + 0.12, center + BH / 2, counted)
                    x += BW
                    if k < len(unit.boxes) - 1:
                        arrow(ax, (x, center), (x + INNER, center))
                        x += INNER
                if unit.block is not None:
                    _shortcut(ax, left, x, center, unit.block)
                last = j == len(units) - 1
                text = " → ".join(_label(layers).replace("\n", ", ") for layers in unit.boxes)
                record(ax, text, unit.modules, shapes[index] if last else None, numbers)
                end = x + (SHAPE_GAP if last else GAP)
                arrow(ax, (x, center), (end, center))
                if last:
                    ax.text(x + 0.45, center + 0.08, _shape_text(shapes[index]),
                            ha="left", va="bottom", fontsize=8, color="#333333")
                x = end
    ax.set_xlim(0, width)
    ax.set_ylim(y, 0.25)
    layers = count_layers(net)
    ax.set_title(i18n.label("resnet_title", layers=layers, shape=_shape_text(input_size)) + "\n"
                 + i18n.label("resnet_numbered", layers=layers), fontsize=10)
    fig.tight_layout(pad=0.3)
    return fig
