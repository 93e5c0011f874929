"""Sliders for the notebooks, each one ``ipywidgets.interactive(function, **controls)``.

The logic lives in the plain functions (``describe_block_shape``, ``describe_stages``,
``describe_trace``), so it can be tested without a browser: set a control's ``.value`` and the
widget's ``.result`` holds what the function returned (see ``controls``).

Networks are built on the meta device, where tensors have a shape but no data, so every slider
answers at once, even for a network with a hundred million parameters.
"""
from typing import NamedTuple

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from IPython.display import display

from . import i18n
from .blocks import Bottleneck, Residual
from .checks import true_or_false, whole_number
from .model import (ARCHITECTURES, STAGE_WIDTHS, count_layers, count_parameters, display_name,
                    resnet, resnet18)
from .drawing.resnet_diagram import draw_resnet
from .shapes import block_output_shape, trace_shapes

__all__ = ["block_shape_widget", "stage_widget", "trace_widget", "controls", "apply_architecture",
           "describe_block_shape", "describe_stages", "describe_trace", "summarize_stages",
           "StageSummary", "matching_architecture", "format_trace_table",
           "plot_resolution_and_channels", "stage_names"]

STAGES = ("b2", "b3", "b4", "b5")
# The block menu's entries: i18n key of the label -> block.
BLOCKS = {"basic_option": Residual, "bottleneck_option": Bottleneck}
# One button per family member whose stages fit the sliders (ResNet-101 has 23 blocks in b4):
# "ResNet-18" -> (block, blocks per stage).
BUTTONS = {display_name(name): ARCHITECTURES[name] for name in ("resnet18", "resnet34", "resnet50")}
WIDTH_CHOICES = (16, 32, 64, 128, 256, 512, 1024)


def controls(widget):
    """The controls of an ``interactive`` widget by argument name:
    ``controls(w)["strides"].value = 2`` moves the slider and reruns the function."""
    return {control._kwarg: control for control in widget.kwargs_widgets}


def _interactive(function, **controls):
    """``widgets.interactive``, its function run once at construction (ipywidgets 8 does that
    itself; 7.7, Colab's, waits for a control to move, leaving ``result`` and the output empty)."""
    widget = widgets.interactive(function, **controls)
    if int(widgets.__version__.split(".")[0]) < 8:
        widget.update()
    return widget


def _check_slider_value(name, value, low, high, step):
    if whole_number(name, value, low, high) % step != low % step:
        raise ValueError(f"{name} must be a multiple of {step} from {low} to {high}, "
                         f"got {value!r}")
    return int(value)


class _StrictIntSlider(widgets.IntSlider):
    """An IntSlider that refuses, in one line, a value it cannot show: ipywidgets clamps
    height 100 to 32 and casts strides 2.5 to 2 without a word, at the start and later."""

    def __setattr__(self, attribute, value):
        if attribute == "value" and getattr(self, "_checked_name", None):
            value = _check_slider_value(self._checked_name, value, self.min, self.max,
                                        self.step)
        super().__setattr__(attribute, value)


class _StrictDropdown(widgets.Dropdown):
    """A Dropdown whose wrong value is one line naming the choices, not traitlets'
    'Invalid selection: value not found'."""

    def __setattr__(self, attribute, value):
        if attribute == "value" and getattr(self, "_options_values", None) is not None \
                and value not in self._options_values:
            raise ValueError(f"{self.description or 'the menu'} must be one of "
                             f"{', '.join(map(str, self._options_labels))}, got {value!r}")
        super().__setattr__(attribute, value)


def _int_slider(name, description, value, low, high, step=1):
    slider = _StrictIntSlider(value=_check_slider_value(name, value, low, high, step), min=low,
                              max=high, step=step, description=description,
                              style={"description_width": "initial"})
    slider._checked_name = name  # from now on every value is checked (see _StrictIntSlider)
    return slider


# 6.2: the shape of one residual block's output -------------------------------------------

def describe_block_shape(input_channels, num_channels, strides, use_1x1conv, height, width):
    """Print and return ``str(block_output_shape(...))``: "output shape (C, H, W)" or
    "cannot add: <reason>" (in the i18n language)."""
    text = str(block_output_shape(input_channels, num_channels, strides=strides,
                                  use_1x1conv=use_1x1conv, height=height, width=width))
    call = (f"Residual({input_channels}, {num_channels}, use_1x1conv={use_1x1conv}, "
            f"strides={strides})")
    print(i18n.tr("block_on_input", call=call, channels=input_channels, height=height,
                  width=width))
    print(text)
    return text


def block_shape_widget(input_channels=3, num_channels=6, strides=2, use_1x1conv=True,
                       height=6, width=6):
    return _interactive(
        describe_block_shape,
        input_channels=_int_slider("input_channels", i18n.tr("input_channels"), input_channels,
                                   1, 16),
        num_channels=_int_slider("num_channels", i18n.tr("output_channels"), num_channels, 1, 16),
        strides=_int_slider("strides", i18n.tr("stride"), strides, 1, 3),
        use_1x1conv=widgets.Checkbox(value=true_or_false("use_1x1conv", use_1x1conv),
                                     description="use_1x1conv"),
        height=_int_slider("height", i18n.tr("height"), height, 1, 32),
        width=_int_slider("width", i18n.tr("width"), width, 1, 32))


# 6.3: how depth and width set the size of the network ------------------------------------

class StageSummary(NamedTuple):
    parameters: int  # trainable parameters
    layers: int      # conv and linear layers, the 1x1 shortcut convs left out (count_layers)


def _meta_resnet(depths, widths, block=Residual, in_channels=1, num_classes=10):
    # On the meta device: no memory, no initialisation cost, at any size.
    with torch.device("meta"):
        return resnet(depths, widths, block, in_channels, num_classes)


def summarize_stages(depths, widths, block=Residual, in_channels=1, num_classes=10):
    """Parameters and layers of ``resnet(depths, widths, block)``, built on the meta device
    (no memory, no initialisation cost)."""
    net = _meta_resnet(depths, widths, block, in_channels, num_classes)
    return StageSummary(count_parameters(net), count_layers(net))


def matching_architecture(depths, widths, block):
    """The family member's name ("ResNet-34") these stages build, or None."""
    if tuple(widths) != STAGE_WIDTHS:
        return None
    return next((display_name(name) for name, member in ARCHITECTURES.items()
                 if member == (block, tuple(depths))), None)


def describe_stages(b2_blocks, b3_blocks, b4_blocks, b5_blocks,
                    b2_channels, b3_channels, b4_channels, b5_channels, block):
    """Print and return the StageSummary of the network the sliders describe, and show its
    architecture (``draw_resnet``) on a 224x224 image."""
    depths = (b2_blocks, b3_blocks, b4_blocks, b5_blocks)
    widths = (b2_channels, b3_channels, b4_channels, b5_channels)
    net = _meta_resnet(depths, widths, block)
    summary = StageSummary(count_parameters(net), count_layers(net))
    name = matching_architecture(depths, widths, block)
    print(i18n.tr("stage_summary", layers=summary.layers,
                  this_is=i18n.tr("this_is", name=name) if name else "",
                  parameters=f"{summary.parameters:,}",
                  mib=f"{summary.parameters * 4 / 2**20:,.1f}"))
    display(draw_resnet(net, (1, 1, 224, 224)))
    return summary


def _button_network(name):
    if name not in BUTTONS:  # ResNet-101's 23 blocks in b4 do not fit a slider up to 8
        raise ValueError(f"the stage widget has buttons for {', '.join(BUTTONS)}, "
                         f"got {name!r}")
    return BUTTONS[name]


def apply_architecture(widget, name):
    """Move the stage widget's controls to a button's network: "ResNet-18", "-34" or "-50"."""
    block, depths = _button_network(name)
    named = controls(widget)
    # Each control that moves reruns the widget's function; skip the in-between networks
    # (each would be drawn) and draw the chosen one once, at the end.
    function, widget.f = widget.f, lambda **kwargs: widget.result
    try:
        for stage, depth, width in zip(STAGES, depths, STAGE_WIDTHS):
            named[f"{stage}_blocks"].value = depth
            named[f"{stage}_channels"].value = width
        named["block"].value = block
    finally:
        widget.f = function
    widget.update()


def stage_widget(architecture="ResNet-18"):
    """Sliders for the blocks and menus for the channels of each stage, starting on
    ``architecture`` (one of BUTTONS: a network's shape, not a training preset)."""
    block, depths = _button_network(architecture)
    widths = STAGE_WIDTHS
    depth_sliders = {f"{stage}_blocks": _int_slider(f"{stage}_blocks",
                                                    i18n.tr("stage_blocks", stage=stage),
                                                    depth, 1, 8)
                     for stage, depth in zip(STAGES, depths)}
    width_menus = {f"{stage}_channels": _StrictDropdown(
                       options=WIDTH_CHOICES, value=width,
                       description=i18n.tr("stage_channels", stage=stage))
                   for stage, width in zip(STAGES, widths)}
    block_menu = _StrictDropdown(
        options=[(i18n.tr(key), choice) for key, choice in BLOCKS.items()], value=block,
        description=i18n.tr("block"))
    widget = _interactive(describe_stages, **depth_sliders, **width_menus,
                                 block=block_menu)
    buttons = [widgets.Button(description=name) for name in BUTTONS]
    for button in buttons:
        button.on_click(lambda b: apply_architecture(widget, b.description))
    # Lay out the same controls in rows: architectures, blocks per stage, channels per stage.
    widget.children = [widgets.HBox(buttons), widgets.HBox(list(depth_sliders.values())),
                       widgets.HBox(list(width_menus.values())), block_menu, widget.out]
    widget.architecture_buttons = {button.description: button for button in buttons}
    return widget


# Tracing shapes through the network at any input size -----------------------------------

def stage_names(rows):
    """The notes' names: b1..b5 for the Sequential stages, the class name for the rest."""
    return [f"b{i + 1}" if row.name == "Sequential" else row.name for i, row in enumerate(rows)]


def format_trace_table(rows):
    lines = [i18n.pad(i18n.tr("trace_layer"), 18) + i18n.pad(i18n.tr("output_shape"), 20)
             + i18n.pad(i18n.tr("trace_parameters"), 12, ">")]
    for name, row in zip(stage_names(rows), rows):
        lines.append(f"{name:<18}{str(tuple(row.shape)):<20}{row.parameters:>12,}")
    return "\n".join(lines)


def plot_resolution_and_channels(rows, ax=None):
    """Height (log scale, falling) and channels (rising) after each stage b1, b2, ... of a trace."""
    if ax is None:
        ax = plt.subplots(figsize=(5, 3))[1]
    stages = [(name, row.shape) for name, row in zip(stage_names(rows), rows)
              if row.name == "Sequential"]
    names = [name for name, _ in stages]
    _log2_plot(ax, names, [shape[2] for _, shape in stages], "o-", "C0",
               i18n.label("height_and_width"))
    _log2_plot(ax.twinx(), names, [shape[1] for _, shape in stages], "s--", "C1",
               i18n.label("num_channels"))
    ax.set_xlabel(i18n.label("stage_output"))
    return ax


def _log2_plot(ax, names, values, style, color, label):
    # A log axis so that each halving or doubling is one equal step, labelled with the values.
    ax.plot(names, values, style, color=color)
    ax.set_yscale("log", base=2)
    ticks = sorted(set(values))
    ax.set_yticks(ticks, [str(tick) for tick in ticks])
    ax.yaxis.set_minor_locator(plt.NullLocator())
    ax.set_ylabel(label, color=color)


def describe_trace(input_size, net):
    """Print the trace table of ``net`` on one input_size x input_size image, draw its
    architecture at that size (``draw_resnet``) and plot resolution against channels;
    return the trace rows."""
    input_shape = (1, getattr(net, "in_channels", 1), input_size, input_size)
    rows = trace_shapes(net, input_shape)
    print(i18n.tr("input_shape", shape=input_shape))
    print(format_trace_table(rows))
    display(draw_resnet(net, input_shape))
    ax = plot_resolution_and_channels(rows)
    ax.set_title(i18n.label("input_title", size=input_size), fontsize=10)
    display(ax.figure)
    plt.close(ax.figure)
    return rows


def trace_widget(net=None, input_size=224):
    if net is None:
        with torch.device("meta"):
            net = resnet18()
    if not isinstance(net, torch.nn.Module):  # else a traceback inside the widget's output
        raise ValueError(f"net must be a network (an nn.Module), e.g. resnet18(); got {net!r}")
    return _interactive(
        describe_trace,
        input_size=_int_slider("input_size", i18n.tr("input_size"), input_size, 32, 512,
                               step=32),
        net=widgets.fixed(net))
