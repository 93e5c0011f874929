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
# after each stage: *the resolution falls and the number of channels rises, until global
# average pooling gathers all the features* (分辨率降低,通道数量增加,直到全局平均汇聚层聚集所有特征).
#
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
# And this is the book's loop, unchanged, run on the module's ResNet-18. We capture what it
# prints and compare it with the notes line by line.

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
# The module can produce the same table without computing anything: `trace_shapes` runs a
# copy of the network on PyTorch's *meta* device, where tensors have shapes but no data.

# %%
from d2lresnet import format_trace, trace_shapes

rows = trace_shapes(net, (1, 1, 224, 224))
assert format_trace(rows) == EXPECTED
rows[:2]

# %% [markdown]
# ## The output-size formula, checked on every layer
#
# A convolution or pooling window of size $k$, with padding $p$ and stride $s$, turns a side
# of $n$ pixels into
#
# $$\left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1 .$$
#
# `trace_leaves` records the input and output shape of every innermost layer, so we can hold
# the formula against every convolution and max-pooling in the network — the 7x7 stem, the
# 3x3 convolutions of all eight blocks, the three 1x1 shortcuts and the max-pooling — at
# 224x224, at the 96x96 of the training chapter, and at an odd size where the floor matters.

# %%
from torch import nn

from d2lresnet import conv_output_size, trace_leaves


def pair(value):
    return value if isinstance(value, tuple) else (value, value)


def formula_holds(leaf):
    layer = leaf.module
    return all(conv_output_size(leaf.input_shape[dim], k, s, p) == leaf.output_shape[dim]
               for dim, k, s, p in zip((2, 3), pair(layer.kernel_size), pair(layer.stride),
                                       pair(layer.padding)))


for size in (224, 96, 97):
    windows = [leaf for leaf in trace_leaves(net, (1, 1, size, size))
               if isinstance(leaf.module, (nn.Conv2d, nn.MaxPool2d))]
    print(f"{size}x{size}: {len(windows)} conv/pool layers, formula holds on all:",
          all(map(formula_holds, windows)))
    assert len(windows) == 1 + 1 + 8 * 2 + 3  # stem conv, max-pool, block convs, shortcuts
    assert all(map(formula_holds, windows))

# %% [markdown]
# A few of them at 224x224, to read the formula off: the stem's $\lfloor(224 + 6 - 7)/2\rfloor
# + 1 = 112$, the max-pooling's $\lfloor(112 + 2 - 3)/2\rfloor + 1 = 56$, and a 1x1 shortcut
# with stride 2: $\lfloor(56 - 1)/2\rfloor + 1 = 28$.

# %%
for leaf in trace_leaves(net, (1, 1, 224, 224)):
    if leaf.path in ("0.0", "0.3", "2.0.conv1", "2.0.shortcut"):
        print(f"{leaf.path:<10} {type(leaf.module).__name__:<10} "
              f"{leaf.input_shape[2]:>4} -> {leaf.output_shape[2]:<4}", leaf.module)

# %% [markdown]
# ## Try it: other input sizes
#
# Fashion-MNIST images are 28x28; the notes resize them to 96x96 for training (6.4). At 96
# the last stage b5 sees only 3x3 pixels:

# %%
from d2lresnet.widgets import format_trace_table, trace_widget

rows_96 = trace_shapes(net, (1, 1, 96, 96))
print(format_trace_table(rows_96))
assert rows_96[4].shape == (1, 512, 3, 3)

# %% [markdown]
# The slider reruns the same trace (on the meta device, so it is instant) and redraws the
# table and the plot. At 32x32, b5 is down to a single pixel. Whatever the size, the global
# average pooling leaves 512 numbers, so the same final `Linear(512, 10)` fits every size.

# %%
widget = trace_widget()
assert widget.result[4].shape == (1, 512, 7, 7)
widget

# %% [markdown]
# ## Resolution against channels
#
# From b2 on, every stage halves height and width and doubles the channels. Two things follow:
# the activations shrink by half at each stage ($2 \times \tfrac14$), while the cost of a 3x3
# convolution, proportional to $c^2 \times h \times w$, stays the same. That is why b5 holds
# 75% of the weights (notebook 03) yet costs no more arithmetic than b3.

# %%
import matplotlib.pyplot as plt

from d2lresnet import count_flops
from d2lresnet.widgets import plot_resolution_and_channels

stage_shapes = [row.shape for row in rows[1:5]]  # b2..b5 at 224x224
activations = [c * h * w for _, c, h, w in stage_shapes]
conv_cost = [c * c * h * w for _, c, h, w in stage_shapes]
print("activations per stage:", activations)
print("c^2 h w per stage:    ", conv_cost)
assert all(big == 2 * small for big, small in zip(activations, activations[1:]))
assert len(set(conv_cost)) == 1

stage_inputs = [row.shape for row in rows[:4]]  # what b2..b5 receive
stage_flops = [count_flops(stage, shape) for stage, shape in zip(net[1:5], stage_inputs)]
print("GFLOP per stage (b2..b5):", [round(f / 1e9, 3) for f in stage_flops])
assert stage_flops[1] == stage_flops[2] == stage_flops[3]

fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for ax, (size, trace) in zip(axes, [(224, rows), (96, rows_96)]):
    plot_resolution_and_channels(trace, ax)
    ax.set_title(f"{size}x{size} input")
fig.tight_layout()
plt.show()
