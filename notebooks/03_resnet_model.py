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
# # 6.3 The ResNet model (ResNet模型)
#
# We assemble ResNet-18 stage by stage, as the notes do, and check the shape of a
# 224x224 single-channel image after each stage.
#
# ## b1: the stem
#
# The first layers are GoogLeNet's: a 7x7 convolution with 64 output channels and stride 2,
# then a 3x3 max-pooling with stride 2. ResNet adds BatchNorm after the convolution. Each
# stride halves height and width, so 224 becomes 56.

# %%
import inspect

import torch
from torch import nn

from d2lresnet import count_layers, count_parameters, resnet18, resnet_block, stem

torch.manual_seed(0)
X = torch.rand(1, 1, 224, 224)

b1 = stem(in_channels=1)
print(b1)
Y1 = b1(X)
print("b1:", Y1.shape)
assert Y1.shape == (1, 64, 56, 56)

# %% [markdown]
# ## b2..b5: four stages of residual blocks
#
# GoogLeNet follows with four modules of Inception blocks; ResNet uses four stages of residual
# blocks, each with a fixed number of output channels. The first stage keeps the 64 channels
# and, since the stem has already shrunk the image twice, keeps height and width. Every later
# stage doubles the channels and halves height and width **in its first block** (stride 2,
# with the 1x1 convolution on the shortcut); its other blocks keep the shape.

# %%
print(inspect.getsource(resnet_block))

# %% [markdown]
# Two residual blocks per stage, one stage at a time:

# %%
b2 = nn.Sequential(*resnet_block(64, 64, 2, first_block=True))
Y2 = b2(Y1)
print("b2:", Y2.shape)
assert Y2.shape == (1, 64, 56, 56)  # first_block: no stride, no 1x1 conv

# %%
b3 = nn.Sequential(*resnet_block(64, 128, 2))
Y3 = b3(Y2)
print("b3:", Y3.shape)
assert Y3.shape == (1, 128, 28, 28)

# %%
b4 = nn.Sequential(*resnet_block(128, 256, 2))
Y4 = b4(Y3)
print("b4:", Y4.shape)
assert Y4.shape == (1, 256, 14, 14)

# %%
b5 = nn.Sequential(*resnet_block(256, 512, 2))
Y5 = b5(Y4)
print("b5:", Y5.shape)
assert Y5.shape == (1, 512, 7, 7)

# %% [markdown]
# ## The whole network
#
# As in GoogLeNet, global average pooling turns each of the 512 channels into one number,
# and a fully connected layer maps those to the 10 classes of Fashion-MNIST.

# %%
net = nn.Sequential(b1, b2, b3, b4, b5,
                    nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(512, 10))
print("output:", net(X).shape)
print(f"parameters: {count_parameters(net):,}")
assert net(X).shape == (1, 10)
assert count_parameters(net) == count_parameters(resnet18()) == 11_178_378

# %% [markdown]
# The same count is not a coincidence: the hand-built net and the module's `resnet18()` have
# the same parameters, tensor for tensor, in the same order.

# %%
shapes_by_hand = [p.shape for p in net.parameters()]
shapes_in_module = [p.shape for p in resnet18().parameters()]
print(len(shapes_by_hand), "parameter tensors")
assert shapes_by_hand == shapes_in_module

# %% [markdown]
# ## Where the parameters are
#
# A table of the stages, read off the network itself:

# %%
rows = []
for name, stage in zip(["b2", "b3", "b4", "b5"], [b2, b3, b4, b5]):
    first = stage[0]
    rows.append((name, first.conv1.in_channels, stage[-1].conv2.out_channels, len(stage),
                 first.conv1.stride[0], count_parameters(stage)))

print(f"{'stage':<6}{'in':>5}{'out':>5}{'blocks':>8}{'stride':>8}{'parameters':>12}{'share':>7}")
for name, c_in, c_out, blocks, stride, params in rows:
    share = params / count_parameters(net)
    print(f"{name:<6}{c_in:>5}{c_out:>5}{blocks:>8}{stride:>8}{params:>12,}{share:>7.1%}")

stage_params = [row[-1] for row in rows]
assert count_parameters(b1) + sum(stage_params) + 512 * 10 + 10 == count_parameters(net)
assert stage_params[-1] / count_parameters(net) > 0.7

# %% [markdown]
# Each stage has about four times the parameters of the one before: a 3x3 convolution from
# $c$ to $c$ channels has $9c^2$ weights, and the channels double. So three quarters of
# ResNet-18's weights sit in b5. Yet b5 works on a 7x7 image, so it costs about as much
# arithmetic as b2 does with its few weights on 56x56 (notebook 04 counts it).
#
# ## Why "18"?
#
# Each stage has 4 convolutional layers (two blocks of two; the 1x1 shortcut convolutions only
# reshape the input and are not counted). With the 7x7 convolution at the start and the fully
# connected layer at the end: $1 + 4 \times 4 + 1 = 18$. Counted layer by layer:

# %%
per_layer = [count_layers(layer) for layer in net]
print(per_layer, "=", sum(per_layer))
assert per_layer == [1, 4, 4, 4, 4, 0, 0, 1]
assert count_layers(net) == 18

# %% [markdown]
# ResNet's body is as simple as GoogLeNet's is intricate, which makes it easy to change:
# more blocks per stage give ResNet-34, the bottleneck block (1x1, 3x3, 1x1) gives ResNet-50.
# `summarize_stages` builds such a network on PyTorch's *meta* device (shapes, no numbers), so
# counting even a large one is instant:

# %%
from d2lresnet import ARCHITECTURES, STAGE_WIDTHS, resnet34
from d2lresnet.widgets import stage_widget, summarize_stages

summaries = {}
for name, (block, depths) in ARCHITECTURES.items():  # the family, as torchvision lists it
    summaries[name] = summarize_stages(depths, STAGE_WIDTHS, block)
    print(f"{name:10s} {block.__name__:10s} blocks per stage {str(depths):14s}",
          summaries[name])
assert summaries["resnet34"] == (count_parameters(resnet34()), 34) == (21_290_250, 34)
assert [s.layers for s in summaries.values()] == [18, 34, 50, 101, 152]

# %% [markdown]
# Try it: blocks per stage, channels per stage and the kind of block; the buttons jump to
# the standard depths.

# %%
widget = stage_widget()
assert widget.result == (11_178_378, 18)
widget
