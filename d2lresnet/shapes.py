"""Shapes without arithmetic: run the network on the meta device, where tensors carry a shape
but no data, so tracing costs nothing at any input size."""
import copy
from typing import NamedTuple

import torch
from torch import nn

from . import i18n
from .checks import true_or_false, whole_number
from .model import ResNet, check_input

__all__ = ["TraceRow", "trace_shapes", "format_trace", "print_trace", "LeafShape", "trace_leaves",
           "conv_output_size", "BlockShape", "block_output_shape", "count_flops"]


class TraceRow(NamedTuple):
    name: str          # the layer's class name, as the book prints it
    shape: torch.Size  # its output shape
    parameters: int    # trainable parameters in the layer


def _on_meta(net):
    # eval(): BatchNorm in training mode refuses a batch of one at 1x1 resolution.
    return copy.deepcopy(net).to("meta").eval()


def trace_shapes(net, input_shape):
    """One row per top-level layer of ``net`` (an nn.Sequential) for an input of input_shape."""
    if not isinstance(net, nn.Sequential):
        raise TypeError(f"trace_shapes walks an nn.Sequential layer by layer, "
                        f"got {type(net).__name__}")
    X = torch.empty(tuple(input_shape), device="meta")
    if isinstance(net, ResNet):
        check_input(X, net.in_channels)
    rows = []
    for layer in _on_meta(net):
        X = layer(X)
        rows.append(TraceRow(layer.__class__.__name__, X.shape,
                             sum(p.numel() for p in layer.parameters())))
    return rows


def format_trace(rows):
    """The book's printout: ``print(layer.__class__.__name__, 'output shape:\\t', X.shape)``."""
    return "\n".join(f"{row.name} output shape:\t {row.shape}" for row in rows)


def print_trace(net, input_shape=(1, 1, 224, 224)):
    print(format_trace(trace_shapes(net, input_shape)))


class LeafShape(NamedTuple):
    path: str          # e.g. "1.0.conv1"
    module: nn.Module  # the leaf module (on the meta device)
    input_shape: torch.Size
    output_shape: torch.Size


def trace_leaves(net, input_shape):
    """Input and output shape of every leaf module (conv, BN, pool, ...) in call order."""
    meta_net = _on_meta(net)
    seen = []
    hooks = [module.register_forward_hook(
                 lambda m, inputs, output, path=path: seen.append(
                     LeafShape(path, m, inputs[0].shape, output.shape)))
             for path, module in meta_net.named_modules() if not list(module.children())]
    try:
        meta_net(torch.empty(tuple(input_shape), device="meta"))
    finally:
        for hook in hooks:
            hook.remove()
    return seen


def conv_output_size(size, kernel_size, stride=1, padding=0):
    """floor((size + 2 * padding - kernel_size) / stride) + 1, the formula for conv and pool."""
    size, kernel_size = whole_number("size", size), whole_number("kernel_size", kernel_size)
    stride, padding = whole_number("stride", stride), whole_number("padding", padding, 0)
    if kernel_size > size + 2 * padding:  # the formula would give 0 or less; PyTorch refuses
        raise ValueError(f"a {kernel_size}x{kernel_size} kernel does not fit in {size} pixels "
                         f"padded by {padding} on each side")
    return (size + 2 * padding - kernel_size) // stride + 1


class BlockShape(NamedTuple):
    shape: tuple | None  # (channels, height, width) of the block's output, or None
    reason: str          # why the shortcut cannot be added (in the i18n language), or ""

    def __str__(self):
        return (i18n.tr("block_output", shape=self.shape) if self.shape
                else i18n.tr("cannot_add", reason=self.reason))


def block_output_shape(input_channels, num_channels, *, strides=1, use_1x1conv=False,
                       height=6, width=6):
    """The output (channels, height, width) of ``Residual(input_channels, num_channels,
    use_1x1conv, strides)`` on an input of height x width, or the reason it cannot work.
    All but the channels are keywords: Residual takes use_1x1conv before strides, this
    function's callers name them, so the two orders can never be confused."""
    try:  # the checks Residual applies, as a reason instead of an error
        input_channels, num_channels, strides, height, width = (
            whole_number(name, value) for name, value in [
                ("input_channels", input_channels), ("num_channels", num_channels),
                ("strides", strides), ("height", height), ("width", width)])
        use_1x1conv = true_or_false("use_1x1conv", use_1x1conv)
    except ValueError as reason:
        return BlockShape(None, str(reason))
    # Both 3x3 convs pad by 1, so only the stride changes the size; the 1x1 shortcut agrees.
    out_height = conv_output_size(height, 3, strides, padding=1)
    out_width = conv_output_size(width, 3, strides, padding=1)
    if not use_1x1conv:
        if input_channels != num_channels:
            return BlockShape(None, i18n.tr("reason_channels", input_channels=input_channels,
                                            num_channels=num_channels))
        if (out_height, out_width) != (height, width):
            return BlockShape(None, i18n.tr("reason_stride", strides=strides, height=height,
                                            width=width, out_height=out_height,
                                            out_width=out_width))
    return BlockShape((num_channels, out_height, out_width), "")


def count_flops(net, input_shape, backward=False):
    """FLOPs of one forward (and backward) pass, counted by torch.utils.flop_counter on the
    meta device: exact for convs and matmuls, instant, no data needed."""
    from torch.utils.flop_counter import FlopCounterMode

    meta_net = _on_meta(net)  # eval mode: BN's batch statistics are not matmuls anyway
    X = torch.empty(tuple(input_shape), device="meta")
    with FlopCounterMode(display=False) as counter:
        out = meta_net(X)
        if backward:
            out.sum().backward()
    return counter.get_total_flops()
