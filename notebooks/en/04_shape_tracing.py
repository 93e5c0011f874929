# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Tracing shapes through ResNet-18 (查看形状)
#
# The notes end 6.3 by sending one 224x224 image through the network and printing the shape
# after each stage: *the resolution falls and the number of channels rises, until the global
# average pooling layer gathers all the features* (分辨率降低，通道数量增加，直到全局平均汇聚层聚集所有特征).
# We reproduce that printout, work each side out with the output-size formula, and see what
# other input sizes do. Run All takes about 10 seconds under the default preset on a 2-core CPU.

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

# %% [markdown]
# ## The notes' printout, line for line
#
# This is the text the notes print:

# %%
EXPECTED = """\
Sequential output shape:\t torch.Size([1, 64, 56, 56])
Sequential output shape:\t torch.Size([1, 64, 56, 56])
Sequential output shape:\t torch.Size([1, 128, 28, 28])
Sequential output shape:\t torch.Size([1, 256, 14, 14])
Sequential output shape:\t torch.Size([1, 512, 7, 7])
AdaptiveAvgPool2d output shape:\t torch.Size([1, 512, 1, 1])
Flatten output shape:\t torch.Size([1, 512])
Linear output shape:\t torch.Size([1, 10])"""

# %% [markdown]
# And this is the book's loop, unchanged, run on the ResNet-18 of notebook 03 as `resnet18()`
# builds it. We capture what it prints and compare it with the notes line by line.

# %%
import contextlib
import io

import torch

from d2lresnet import resnet18

net = resnet18()
printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    X = torch.rand(size=(1, 1, 224, 224))
    for layer in net:
        X = layer(X)
        print(layer.__class__.__name__, 'output shape:\t', X.shape)

print(printed.getvalue())
lines, expected_lines = printed.getvalue().splitlines(), EXPECTED.splitlines()
assert len(lines) == len(expected_lines)
for line, expected in zip(lines, expected_lines):
    assert line == expected, (line, expected)

# %% [markdown]
# ## The output-size formula
#
# A convolution or pooling window of size $k$, with padding $p$ and stride $s$, turns a side
# of $n$ pixels into
#
# $$\left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1 .$$
#
# Only the layers with stride 2 change the side; every other convolution has stride 1 and the
# padding that keeps it. At 224x224: the stem's 7x7 convolution gives
# $\lfloor(224 + 6 - 7)/2\rfloor + 1 = 112$, its max-pooling
# $\lfloor(112 + 2 - 3)/2\rfloor + 1 = 56$, b3's first 3x3 convolution
# $\lfloor(56 + 2 - 3)/2\rfloor + 1 = 28$, and the 1x1 convolution on the shortcut beside it
# $\lfloor(56 - 1)/2\rfloor + 1 = 28$, so the two can be added. The cell reads each layer's
# $k$, $s$, $p$ and the side it receives off the network, holds the formula against the side
# it puts out, and checks that only the layers with stride 2 change the side:

# %%
from torch import nn

from d2lresnet import conv_output_size, trace_leaves


def first(value):  # PyTorch stores (3, 3) for a conv, 3 for a max-pooling
    return value[0] if isinstance(value, tuple) else value


def side_by_formula(leaf):
    layer = leaf.module
    return conv_output_size(leaf.input_shape[2], first(layer.kernel_size), first(layer.stride),
                            first(layer.padding))


windows = [leaf for leaf in trace_leaves(net, (1, 1, 224, 224))
           if isinstance(leaf.module, (nn.Conv2d, nn.MaxPool2d))]
picked = [leaf for leaf in windows if leaf.path in ("0.0", "0.3", "2.0.conv1", "2.0.shortcut")]
for leaf in picked:
    print(f"{leaf.path:<13} {leaf.input_shape[2]:>4} → {side_by_formula(leaf):<4}", leaf.module)
assert [side_by_formula(leaf) for leaf in picked] == [leaf.output_shape[2] for leaf in picked]
# and only the layers with stride 2 change the side
assert all((leaf.output_shape[2] != leaf.input_shape[2]) == (first(leaf.module.stride) == 2)
           for leaf in windows)

# %% [markdown]
# ## Other input sizes
#
# Fashion-MNIST images are 28x28; the notes resize them to 96x96 for training (6.4).
# `trace_shapes` finds the shapes without computing anything: it runs a copy of the network on
# PyTorch's *meta* device, where tensors have shapes but no data. At 96x96 the last stage b5
# receives 6x6 pixels (b4's output) and puts out 3x3; at the original 28x28 it would receive
# 2x2 and put out a single pixel. The cell prints b5's input and output side at both sizes and
# draws the network at 96x96, with the shape after each part:

# %%
from d2lresnet import trace_shapes
from d2lresnet.drawing.resnet_diagram import draw_resnet

rows = trace_shapes(net, (1, 1, 224, 224))
rows_96 = trace_shapes(net, (1, 1, 96, 96))
b5_sides = {}  # input size: (the side b5 receives, the side it puts out)
for size, trace in [(96, rows_96), (28, trace_shapes(net, (1, 1, 28, 28)))]:
    b5_sides[size] = (trace[3].shape[-1], trace[4].shape[-1])  # b4's output is b5's input
print(b5_sides)
assert b5_sides == {96: (6, 3), 28: (2, 1)}
draw_resnet(net, (1, 1, 96, 96))

# %% [markdown]
# The stem and the three stages after b2 each halve the side once more, five halvings in all
# (the 7x7 convolution, the max-pooling, b3, b4, b5), so b5 puts out the input's side divided
# by $2^5 = 32$ (and receives it divided by 16): a single pixel at 32x32. Whatever the size,
# the global average pooling leaves 512 numbers, so the same final `Linear(512, 10)` fits
# every size. Checked at every size the slider below offers (printed: the side b5 puts out,
# by input size):

# %%
with torch.device("meta"):
    meta_net = resnet18()
sizes = range(32, 513, 32)
traces = {size: trace_shapes(meta_net, (1, 1, size, size)) for size in sizes}
b5_side = {size: trace[4].shape[-1] for size, trace in traces.items()}  # b5's output
assert all(b5_side[size] == size // 32 and traces[size][3].shape[-1] == size // 16
           for size in sizes)
assert all(trace[5].shape == (1, 512, 1, 1) and trace[-1].shape == (1, 10)
           for trace in traces.values())
print(b5_side)

# %% [markdown]
# Try it: the slider reruns the same trace (on the meta device, so it is instant) and redraws
# the table, the architecture and the plot of resolution against channels.

# %%
from d2lresnet.widgets import plot_resolution_and_channels, trace_widget

trace_widget()

# %% [markdown]
# ## Resolution against channels
#
# From b3 on, every stage halves height and width and doubles the channels. Two things follow
# for b2..b5: the activations shrink by half at each stage ($2 \times \tfrac14$), while the
# cost of a 3x3 convolution from $c$ to $c$ channels, proportional to
# $c^2 \times h \times w$, stays the same. The plots show the falling resolution and the
# rising channels at 224x224 and at 96x96 (log scales, so each halving or doubling is one
# equal step):

# %%
import matplotlib.pyplot as plt

stage_shapes = [row.shape for row in rows[1:5]]  # b2..b5 at 224x224
activations = [c * h * w for _, c, h, w in stage_shapes]
conv_cost = [c * c * h * w for _, c, h, w in stage_shapes]
assert all(big == 2 * small for big, small in zip(activations, activations[1:]))
assert len(set(conv_cost)) == 1
print(activations, conv_cost)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for ax, (size, trace) in zip(axes, [(224, rows), (96, rows_96)]):
    plot_resolution_and_channels(trace, ax)
    ax.set_title(f"{size}×{size}")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Summary
#
# * ResNet-18 prints the notes' shapes line for line: 56x56 after b1 and b2, then 28, 14 and 7
#   with 128, 256 and 512 channels, then 512 numbers after global average pooling and 10
#   outputs.
# * Every convolution and max-pooling follows $\lfloor (n + 2p - k)/s \rfloor + 1$; five
#   halvings divide the side by 32, and global average pooling makes the head fit any size.
# * From b3 on, each stage halves height and width and doubles the channels, so the
#   activations halve while each 3x3 convolution costs the same.

# %% [markdown]
# ## Exercises
#
# Replace the `...` in an answer cell with your answer (a number, or code that computes it)
# and run it, then run the check below it: it says whether you are right and, when you are
# not, gives a hint. A worked solution is folded away under each check.

# %%
from d2lresnet import exercises

# %% [markdown]
# **Exercise 1.** The cell that checked b5's output tried multiples of 32 only: b5 puts out a
# single pixel at 32x32 and 2x2 at 64x64. What is the smallest square input for which b5 puts
# out 2x2? Reason it out with the output-size formula, then try your answer with
# `trace_shapes(meta_net, (1, 1, size, size))[4]`, b5's output. Your answer: one integer, the
# side of the input.

# %%
answer_4_1 = ...  # your answer · 你的答案

# %%
exercises.check("04.1", answer_4_1)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
# With these kernels and paddings each of the five stride-2 layers turns a side n into
# ceil(n / 2), so b5 puts out ceil(n / 32): 1 up to 32, then 2.
solution_4_1 = 32 + 1
assert [trace_shapes(meta_net, (1, 1, size, size))[4].shape[-1] for size in (32, 33)] == [1, 2]
assert exercises.check("04.1", solution_4_1)

# %% [markdown]
# **Exercise 2.** What side does b5 put out for a 100x100 input? Apply the output-size formula
# layer by layer, by hand or with `conv_output_size`. Your answer: one integer, the side of
# b5's square output.

# %%
answer_4_2 = ...  # your answer · 你的答案

# %%
exercises.check("04.2", answer_4_2)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
side = 100
for kernel, stride, padding in [(7, 2, 3), (3, 2, 1), (3, 2, 1), (3, 2, 1), (3, 2, 1)]:
    side = conv_output_size(side, kernel, stride, padding)  # stem conv, max-pool, b3, b4, b5
solution_4_2 = side
assert exercises.check("04.2", solution_4_2)

# %% [markdown]
# ## Going further
#
# ### What each stage costs
#
# A convolution does one multiply and one add per weight per output pixel:
# $2 k^2 c_\text{in} c_\text{out} h w$ FLOPs. Take as the unit $U$ one 3x3 convolution from
# $c$ to $c$ channels at the stage's resolution (the same in every stage, as we saw) and list
# each stage's convolutions in that unit:
#
# * b2: four 3x3 convolutions from 64 to 64 channels, $4U$;
# * b3, b4, b5: the first 3x3 convolution takes only $c/2$ channels in, costing $\tfrac12 U$;
#   the 1x1 shortcut from $c/2$ to $c$ has a ninth of its window, costing $\tfrac1{18} U$;
#   three full ones follow: $3 + \tfrac12 + \tfrac1{18} = \tfrac{32}{9} U$.
#
# So b3, b4 and b5 cost exactly the same, and b2 costs $4 / \tfrac{32}{9} = \tfrac98$ as much:
# one eighth more. Below: each stage's convolutions in units of $U$ (in call order: conv1,
# conv2, shortcut, then the second block), from the traced shapes, and each stage's GFLOP.
# That is why b5 holds three quarters of the weights (notebook 03) yet costs exactly as much
# arithmetic as b3 and b4, and less than b2.

# %%
from fractions import Fraction


def conv_flops(leaf):  # one multiply and one add per weight per output pixel
    conv = leaf.module
    k_h, k_w = conv.kernel_size
    _, c_out, h, w = leaf.output_shape
    return 2 * k_h * k_w * (conv.in_channels // conv.groups) * c_out * h * w


stage_inputs = [row.shape for row in rows[:4]]  # what b2..b5 receive
_, c, h, w = stage_shapes[0]
unit = 2 * 3 * 3 * c * c * h * w  # U, the same for every stage (conv_cost above)
in_units, gflop = {}, {}
for name, stage, shape in zip(["b2", "b3", "b4", "b5"], net[1:5], stage_inputs):
    convs = [leaf for leaf in trace_leaves(stage, shape) if isinstance(leaf.module, nn.Conv2d)]
    in_units[name] = [str(Fraction(conv_flops(leaf), unit)) for leaf in convs]
    gflop[name] = round(sum(conv_flops(leaf) for leaf in convs) / 1e9, 3)

assert [sum(map(Fraction, units)) for units in in_units.values()] == [4] + [Fraction(32, 9)] * 3
print(gflop)
in_units
