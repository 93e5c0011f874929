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
# We build ResNet-18 one stage at a time, as the notes do, and send a 224x224 single-channel
# image through it: after the stem, each stage halves height and width and doubles the
# channels. Then we count the 18 layers of its name on the network we built and try other
# depths. Run All takes about 10 seconds under the default preset on a 2-core CPU.

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

# %% [markdown]
# ## b1: the stem
#
# The notes: *the first two layers are the same as in GoogLeNet: a 7x7 convolutional layer
# with 64 output channels and stride 2, followed by a 3x3 max-pooling layer with stride 2.
# The difference is that ResNet adds a batch normalization layer after each convolutional
# layer.* Each stride of 2 halves height and width, so 224 becomes 112, then 56.

# %%
import inspect

import torch
from torch import nn

from d2lresnet import count_layers, count_parameters, resnet18, resnet_block, stem

torch.manual_seed(0)
X = torch.rand(1, 1, 224, 224)

b1 = stem(in_channels=1)
Y1 = b1(X)
print(b1)
assert Y1.shape == (1, 64, 56, 56)
Y1.shape

# %% [markdown]
# Beside it, GoogLeNet's first module, typed in as D2L's GoogLeNet section builds it. The cell
# compares the two stems layer by layer, each layer's type with its channels, kernel size,
# stride and padding: take the batch normalization out of ResNet's stem and what is left is
# GoogLeNet's.

# %%
googlenet_b1 = nn.Sequential(nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3), nn.ReLU(),
                             nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
without_batchnorm = nn.Sequential(*[layer for layer in b1
                                    if not isinstance(layer, nn.BatchNorm2d)])
assert repr(without_batchnorm) == repr(googlenet_b1)
googlenet_b1

# %% [markdown]
# ## b2..b5: four stages of residual blocks
#
# GoogLeNet follows its stem with four modules made of Inception blocks; ResNet, the notes
# say, *uses four modules made of residual blocks, each using several residual blocks with the
# same number of output channels.* The first stage keeps the 64 channels and, since the stem's max-pooling
# has already shrunk the image, keeps height and width too. Every later stage doubles the
# channels and halves height and width **in its first block** (stride 2, with a 1x1
# convolution on the shortcut to give the input the new shape); its other blocks keep the
# shape.

# %%
print(inspect.getsource(resnet_block))

# %% [markdown]
# The notes: *then we add all the residual blocks to ResNet; here each module uses two
# residual blocks.* One stage at a time:

# %%
b2 = nn.Sequential(*resnet_block(64, 64, 2, first_block=True))
Y2 = b2(Y1)
assert Y2.shape == (1, 64, 56, 56)  # first_block: no stride, no 1x1 conv
Y2.shape

# %%
b3 = nn.Sequential(*resnet_block(64, 128, 2))
Y3 = b3(Y2)
assert Y3.shape == (1, 128, 28, 28)
Y3.shape

# %%
b4 = nn.Sequential(*resnet_block(128, 256, 2))
Y4 = b4(Y3)
assert Y4.shape == (1, 256, 14, 14)
Y4.shape

# %%
b5 = nn.Sequential(*resnet_block(256, 512, 2))
Y5 = b5(Y4)
assert Y5.shape == (1, 512, 7, 7)
Y5.shape

# %% [markdown]
# ## The whole network
#
# The notes: *finally, as in GoogLeNet, we add a global average pooling layer and a fully
# connected output layer.* Global average pooling turns each of the 512 channels into one
# number, and the fully connected layer maps those to the 10 classes of Fashion-MNIST. Below:
# the output shape and the number of parameters. The network is the one `resnet18()` builds
# for the next sections, with the same parameter tensors in the same order.

# %%
net = nn.Sequential(b1, b2, b3, b4, b5,
                    nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(512, 10))
assert net(X).shape == (1, 10)
assert [p.shape for p in net.parameters()] == [p.shape for p in resnet18().parameters()]
net(X).shape, count_parameters(net)

# %% [markdown]
# This is the notes' figure of ResNet-18, drawn from `net` itself. Each box is a convolution
# with the batch normalization and ReLU after it, or a layer without weights. A frame holds the
# two 3x3 convolutions of a residual block; the bracket over it is the block's shortcut,
# dashed where it carries a 1x1 convolution. The numbers count the layers of the name, and the
# arrow leaving each row carries that part's output shape.

# %%
from d2lresnet.drawing.resnet_diagram import draw_resnet

draw_resnet(net, (1, 1, 224, 224))

# %% [markdown]
# ## Why "18"?
#
# The notes: *each module has 4 convolutional layers (not counting the 1x1 convolutional layers
# of the identity mapping). Together with the first 7x7 convolutional layer and the final fully
# connected layer, there are 18 layers in total. This is why the model is usually called
# ResNet-18.* Where a 1x1 convolution sits on the shortcut, the shortcut is a learned
# projection rather than an identity mapping. It is left out because it lies off the main path:
# a signal through it passes one 1x1 convolution *instead of* the block's two 3x3
# convolutions, so it adds no depth. Counted on `net`, part by part (b1, b2..b5, pooling,
# flatten, linear):

# %%
weighted = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
on_shortcuts = [m for name, m in net.named_modules() if name.endswith("shortcut")]
per_part = [count_layers(part) for part in net]
print(i18n.tr("nb03_layer_count", weighted=len(weighted), shortcuts=len(on_shortcuts),
              per_part=per_part, depth=sum(per_part)))
assert per_part == [1, 4, 4, 4, 4, 0, 0, 1]

# %% [markdown]
# ## Other depths and widths
#
# The notes: *although ResNet's main architecture is similar to GoogLeNet's, it is simpler and
# easier to modify.* More blocks per stage give ResNet-34; the bottleneck block (1x1, 3x3 and
# 1x1 convolutions) gives ResNet-50 and deeper. Each network is one line of a table: the kind
# of block and the blocks per stage. Counted as the notes count, each has the depth its name
# says. The networks are built with shapes only, no numbers, so even the largest is counted at
# once:

# %%
import re

from d2lresnet import ARCHITECTURES, STAGE_WIDTHS, display_name
from d2lresnet.widgets import stage_widget, summarize_stages

for name, (block, depths) in ARCHITECTURES.items():
    summary = summarize_stages(depths, STAGE_WIDTHS, block)
    print(i18n.tr("nb03_family_row", name=display_name(name), block=block.__name__,
                  depths=depths, layers=summary.layers, parameters=summary.parameters))
    assert int(re.search(r"-(\d+)", display_name(name))[1]) == summary.layers

# %% [markdown]
# Try it: blocks per stage, channels per stage and the kind of block; the buttons jump to
# the standard depths. The picture redraws the architecture you chose, for a 224x224 image.

# %%
stage_widget()

# %% [markdown]
# ## Summary
#
# * ResNet-18's stem is GoogLeNet's (7x7 convolution with stride 2, 3x3 max-pooling with
#   stride 2) plus batch normalization; it takes 224x224 down to 56x56.
# * Four stages of two residual blocks follow. From b3 on, the first block of each stage halves
#   height and width and doubles the channels; its shortcut needs a learned 1x1 convolution.
# * Global average pooling and one fully connected layer finish the network: 18 layers on the
#   main path; the 1x1 shortcut convolutions are off it.
# * Depth and width are a table entry: ResNet-34, -50, -101 and -152 come from the same builder.

# %% [markdown]
# ## Exercises
#
# Replace the `...` in an answer cell with your answer (a number, or code that computes it)
# and run it, then run the check below it: it says whether you are right and, when you are
# not, gives a hint. A worked solution is folded away under each check.

# %%
from d2lresnet import exercises

# %% [markdown]
# **Exercise 1.** ResNet-34 has the same four stages, with 3, 4, 6 and 3 residual blocks. How
# many trainable parameters (weights and biases, and batch normalization's γ and β) does its
# b3, `resnet_block(64, 128, 4)`, have? Count by hand, then with `count_parameters`. Your
# answer: one integer.

# %%
answer_3_1 = ...  # your answer · 你的答案

# %%
exercises.check("03.1", answer_3_1)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
def conv(a, b, k=3):  # k x k weights per channel pair, one bias per output channel
    return k * k * a * b + b


batch_norm = 2 * 128  # gamma and beta per channel
first_block = conv(64, 128) + conv(128, 128) + 2 * batch_norm + conv(64, 128, k=1)
other_block = 2 * conv(128, 128) + 2 * batch_norm
solution_3_1 = first_block + 3 * other_block
assert solution_3_1 == count_parameters(nn.Sequential(*resnet_block(64, 128, 4)))
assert exercises.check("03.1", solution_3_1)

# %% [markdown]
# **Exercise 2.** With three residual blocks in every stage, `resnet((3, 3, 3, 3))`, how many
# layers does the network have, counted as the notes count them? Your answer: one integer.

# %%
answer_3_2 = ...  # your answer · 你的答案

# %%
exercises.check("03.2", answer_3_2)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
from d2lresnet import resnet

solution_3_2 = 1 + 2 * (4 * 3) + 1  # the 7x7 conv, two 3x3 convs in each of 12 blocks, the FC
assert count_layers(resnet((3, 3, 3, 3))) == solution_3_2
assert exercises.check("03.2", solution_3_2)

# %% [markdown]
# ## Going further
#
# ### Where the parameters and the arithmetic are
#
# One row per stage, read off the network: channels in → out, trainable parameters, their
# share of the whole network, and the GFLOP (billions of floating-point operations, counted by
# `torch.utils.flop_counter`) the stage takes for one 224x224 image. Below the rows, each
# stage's parameters over those of the stage before.

# %%
from d2lresnet import count_flops

stages = {"b2": (b2, Y1.shape), "b3": (b3, Y2.shape), "b4": (b4, Y3.shape), "b5": (b5, Y4.shape)}
params = {name: count_parameters(stage) for name, (stage, _) in stages.items()}
flops = {name: count_flops(stage, shape) for name, (stage, shape) in stages.items()}
total = count_parameters(net)
for name, (stage, _) in stages.items():
    print(i18n.tr("nb03_stage_row", stage=name, c_in=stage[0].conv1.in_channels,
                  c_out=stage[-1].conv2.out_channels, parameters=params[name],
                  share=params[name] / total, gflop=flops[name] / 1e9))
ratios = {f"{later} / {earlier}": round(params[later] / params[earlier], 3)
          for earlier, later in zip(params, list(params)[1:])}
ratios

# %% [markdown]
# From b4 on, each stage holds almost exactly four times the parameters of the one before: b4
# is b3 at twice the width, b5 is b4 at twice the width, and a 3x3 convolution from $c$ to $c$
# channels has $9c^2$ weights. b3 holds only about 3.5 times as many as b2, because its first convolution
# takes just 64 channels in, half its width, while all four of b2's convolutions are full. So
# three quarters of ResNet-18's weights sit in b5.
#
# The arithmetic is spread evenly instead: b3, b4 and b5 cost exactly the same number of
# FLOPs, because each halves height and width (a quarter of the pixels) while doubling the
# channels (four times the work per pixel). b2 costs one eighth more than each of them;
# notebook 04 works out why.

# %%
assert 3.5 < params["b3"] / params["b2"] < 3.6
assert all(3.99 < params[later] / params[earlier] < 4
           for earlier, later in [("b3", "b4"), ("b4", "b5")])
assert round(params["b5"] / total, 2) == 0.75
assert flops["b3"] == flops["b4"] == flops["b5"] and 8 * flops["b2"] == 9 * flops["b3"]

# %% [markdown]
# ### The shortcut convolutions learn
#
# The three 1x1 convolutions on the shortcuts (in the first block of b3, b4 and b5) are not
# left out of the count because they do nothing: each has weights and a bias that receive
# gradients and train like every other layer. Below: each one, its parameters, and the norm
# of the gradient that one backward pass gave its weights.

# %%
net.zero_grad()
loss = nn.functional.cross_entropy(net(torch.rand(2, 1, 96, 96)), torch.tensor([0, 1]))
loss.backward()
for conv in on_shortcuts:
    print(i18n.tr("nb03_shortcut_row", conv=conv, parameters=count_parameters(conv),
                  norm=conv.weight.grad.norm().item()))
assert all(conv.weight.grad.norm() > 0 for conv in on_shortcuts)
