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
# We assemble ResNet-18 stage by stage, as the notes do, check the shape of a 224x224
# single-channel image after each stage, and draw the whole architecture at the end.
#
# ## b1: the stem
#
# The notes: *the first two layers are the same as in GoogLeNet: a 7x7 convolutional layer
# with 64 output channels and stride 2, followed by a 3x3 max-pooling layer with stride 2.
# The difference is that ResNet adds a batch normalization layer after each convolutional
# layer.* Each stride halves height and width, so 224 becomes 112, then 56.

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

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
# ### Beside GoogLeNet's stem
#
# Here is GoogLeNet's first module as D2L builds it (`b1` of the GoogLeNet section), written
# out so we can hold the two side by side:

# %%
googlenet_b1 = nn.Sequential(nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3), nn.ReLU(),
                             nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
googlenet_b1

# %% [markdown]
# Read off the modules, not typed in: the layer types of each stem, and the hyperparameters
# that define a convolution or a pooling window. Take the BatchNorm out of ResNet's stem and
# what is left is GoogLeNet's, layer for layer; both turn the image into 64 channels of 56x56.

# %%
def hyperparameters(layer):
    names = ("in_channels", "out_channels", "kernel_size", "stride", "padding")
    return type(layer).__name__, {name: getattr(layer, name) for name in names
                                  if hasattr(layer, name)}


def without_batchnorm(stage):
    return [layer for layer in stage if not isinstance(layer, nn.BatchNorm2d)]


resnet_stem = [hyperparameters(layer) for layer in b1]
googlenet_stem = [hyperparameters(layer) for layer in googlenet_b1]
for row in resnet_stem:
    print(row)

assert [hyperparameters(layer) for layer in without_batchnorm(b1)] == googlenet_stem
assert isinstance(b1[1], nn.BatchNorm2d) and b1[1].num_features == b1[0].out_channels
assert googlenet_b1(X).shape == Y1.shape == (1, 64, 56, 56)

# %% [markdown]
# ## b2..b5: four stages of residual blocks
#
# The notes: *GoogLeNet follows with four modules made of Inception blocks. ResNet instead uses
# four modules made of residual blocks, each using several residual blocks with the same number
# of output channels.* The first stage keeps the 64 channels and, since the stem's max-pooling
# with stride 2 has already shrunk the image, keeps height and width. Every later stage doubles
# the channels and halves height and width **in its first block** (stride 2, with the 1x1
# convolution on the shortcut); its other blocks keep the shape.

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
# number, and the fully connected layer maps those to the 10 classes of Fashion-MNIST. The
# output shape and the number of parameters:

# %%
net = nn.Sequential(b1, b2, b3, b4, b5,
                    nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(512, 10))
assert net(X).shape == (1, 10)
assert count_parameters(net) == count_parameters(resnet18()) == 11_178_378
net(X).shape, count_parameters(net)

# %% [markdown]
# The same count is not a coincidence: the hand-built net and the module's `resnet18()` have
# the same parameters, tensor for tensor, in the same order (the number of tensors below).

# %%
shapes_by_hand = [p.shape for p in net.parameters()]
shapes_in_module = [p.shape for p in resnet18().parameters()]
assert shapes_by_hand == shapes_in_module
len(shapes_by_hand)

# %% [markdown]
# This is the notes' figure of ResNet-18, drawn from `net` itself. Each box is one
# convolution with the batch normalization (and ReLU) after it, or a layer without weights
# (max-pooling, global average pooling, flatten), in the stem as in the blocks. A frame holds
# the two $3\times 3$ convolutions of each residual block, and the bracket over it is the
# block's shortcut, dashed where it carries a 1x1 convolution. The numbers mark the layers the
# name counts: the stem's convolution, two per block, and the fully connected layer. Each arrow
# leaving a row carries that part's output shape.

# %%
from d2lresnet.drawing.diagrams import drawn
from d2lresnet.drawing.resnet_diagram import draw_resnet

figure = draw_resnet(net, (1, 1, 224, 224))
layers = [layer for part in net for layer in (part if isinstance(part, nn.Sequential) else [part])]
assert [module for box in drawn(figure) for module in box.modules] == layers
assert [box.shape for box in drawn(figure) if box.shape][4] == tuple(Y5.shape)
blocks = [block for stage in (b2, b3, b4, b5) for block in stage]
block_boxes = [box for box in drawn(figure) if box.modules and box.modules[0] in blocks]
assert len(block_boxes) == len(blocks) and all(len(box.numbers) == 2 for box in block_boxes)
numbered = [n for box in drawn(figure) for n in box.numbers]
assert numbered == list(range(1, 19)) and 1 + 2 * len(blocks) + 1 == 18  # stem, blocks, FC
figure

# %% [markdown]
# ## Where the parameters and the arithmetic are
#
# One row per stage, read off the network itself: channels in → out, trainable parameters,
# their share of the whole network, and the GFLOP (billions of floating-point operations,
# counted by `torch.utils.flop_counter`) it takes for one 224x224 image.

# %%
from d2lresnet import count_flops

stages = {"b2": (b2, Y1.shape), "b3": (b3, Y2.shape), "b4": (b4, Y3.shape), "b5": (b5, Y4.shape)}
params = {name: count_parameters(stage) for name, (stage, _) in stages.items()}
flops = {name: count_flops(stage, shape) for name, (stage, shape) in stages.items()}
total = count_parameters(net)
for name, (stage, _) in stages.items():
    print(f"{name}  {stage[0].conv1.in_channels:>3} → {stage[-1].conv2.out_channels:<3}"
          f"{params[name]:>12,} {params[name] / total:6.1%} {flops[name] / 1e9:8.3f} GFLOP")

# %% [markdown]
# From b3 on, each stage holds almost exactly four times the parameters of the one before: a
# 3x3 convolution from $c$ to $c$ channels has $9c^2$ weights, and $c$ doubles. (b3 is only
# about 3.5 times b2, because its first convolution starts from 64 channels.) So three quarters
# of ResNet-18's weights sit in b5.
#
# The arithmetic is spread evenly instead: b3, b4 and b5 cost exactly the same number of
# FLOPs, because each halves height and width (a quarter of the pixels) while doubling the
# channels (four times the work per pixel). b2 costs one eighth more than each of them, since
# all four of its convolutions run at full width on 56x56; notebook 04 works out why.

# %%
assert round(params["b5"] / total, 2) == 0.75
assert all(3.9 < params[later] / params[earlier] < 4
           for earlier, later in [("b3", "b4"), ("b4", "b5")])
assert 3.5 < params["b3"] / params["b2"] < 3.6
assert flops["b3"] == flops["b4"] == flops["b5"]
assert 8 * flops["b2"] == 9 * flops["b3"]

# %% [markdown]
# ## Why "18"?
#
# The notes: *each module has 4 convolutional layers (not counting the 1x1 convolutional layers
# of the identity mapping). Together with the first 7x7 convolutional layer and the final fully
# connected layer, there are 18 layers in total. This is why the model is usually called
# ResNet-18.* $1 + 4 \times 4 + 1 = 18$. (Where a 1x1 convolution sits on the shortcut, the
# shortcut is not an identity mapping but a learned projection; only the blocks without one
# pass $\mathbf{x}$ on unchanged.) Counted layer by layer of `net` (b1, b2..b5, pooling,
# flatten, linear):

# %%
per_layer = [count_layers(layer) for layer in net]
assert per_layer == [1, 4, 4, 4, 4, 0, 0, 1]
assert count_layers(net) == 18
per_layer

# %% [markdown]
# The three 1x1 convolutions on the shortcuts (the first block of b3, b4 and b5) are not
# left out because they do nothing: each is a learned projection, with weights and a bias
# that receive gradients and train like every other layer. They are left out because they are
# off the main path. A signal that takes a shortcut passes one 1x1 convolution *instead of*
# the block's two 3x3 convolutions, so the longest chain of layers from input to output, the
# depth, still has 18. Below: each shortcut, its parameters, and whether one backward pass
# gave its weights a gradient.

# %%
weighted = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
shortcuts = {name: m for name, m in net.named_modules() if name.endswith("shortcut")}

net.zero_grad()
loss = nn.functional.cross_entropy(net(torch.rand(2, 1, 96, 96)), torch.tensor([0, 1]))
loss.backward()
for name, conv in shortcuts.items():
    print(f"{name:14} {conv}  {count_parameters(conv):>7,}", bool(conv.weight.grad.abs().sum() > 0))

assert len(weighted) == 21  # 18 on the main path + 3 shortcuts
assert list(shortcuts) == ["2.0.shortcut", "3.0.shortcut", "4.0.shortcut"]
assert all(conv.kernel_size == (1, 1) and conv.stride == (2, 2) for conv in shortcuts.values())
assert all(conv.weight.requires_grad and conv.weight.grad.abs().sum() > 0
           for conv in shortcuts.values())
assert sum(count_parameters(conv) for conv in shortcuts.values()) == sum(
    c_in * c_out + c_out for c_in, c_out in [(64, 128), (128, 256), (256, 512)])

# %% [markdown]
# ## Other depths and widths
#
# The notes: *although ResNet's main architecture is similar to GoogLeNet's, it is simpler and
# easier to modify.* And D2L: *different numbers of channels and of residual blocks per module
# give different ResNet models.* More blocks per stage give ResNet-34; the bottleneck block
# (1x1, 3x3, 1x1) gives ResNet-50 and deeper. Each is one line of the module's table: the kind
# of block and the blocks per stage. `summarize_stages` builds such a network on PyTorch's
# *meta* device (shapes, no numbers), so counting even a large one is instant:

# %%
from d2lresnet import ARCHITECTURES, STAGE_WIDTHS, display_name, resnet34
from d2lresnet.widgets import stage_widget, summarize_stages

summaries = {}
for name, (block, depths) in ARCHITECTURES.items():  # the family, as torchvision lists it
    summaries[name] = summarize_stages(depths, STAGE_WIDTHS, block)
    print(f"{display_name(name):11} {block.__name__:11} {str(depths):14}", summaries[name])
assert summaries["resnet34"] == (count_parameters(resnet34()), 34) == (21_290_250, 34)
assert [s.layers for s in summaries.values()] == [18, 34, 50, 101, 152, 50]  # ResNeXt-50 last

# %% [markdown]
# Try it: blocks per stage, channels per stage and the kind of block; the buttons jump to
# the standard depths. The picture redraws the architecture you chose, for a 224x224 image.

# %%
widget = stage_widget()
assert widget.result == (11_178_378, 18)
widget

# %% [markdown]
# ## Summary
#
# * ResNet-18's stem is GoogLeNet's (7x7 convolution with stride 2, 3x3 max-pooling with
#   stride 2) plus batch normalization; it takes 224x224 down to 56x56.
# * Four stages of two residual blocks follow. From b3 on, the first block of each stage halves
#   height and width and doubles the channels; its shortcut needs a learned 1x1 convolution.
# * Global average pooling and one fully connected layer finish the network: 18 layers on the
#   main path (the 1x1 shortcut convolutions are off it), 11,178,378 parameters.
# * Three quarters of the parameters sit in b5, but b3, b4 and b5 cost the same arithmetic,
#   and b2 one eighth more.
# * Depth and width are a table entry: ResNet-34, -50, -101 and -152 come from the same builder.

# %% [markdown]
# ## Exercises
#
# Each exercise has an answer cell: replace its `...` with your answer (a number, or code that
# computes it) and run it, then run the check below it. The check says whether you are right
# and, when you are not, gives a hint; it computes the right answer from the module, so the
# answer is written nowhere in this notebook. Under each check a worked solution is folded
# away: click the three dots (JupyterLab) or *Show code* (Colab) to open it. The copies an
# instructor hands out (`make student`) leave the solutions out.

# %%
from d2lresnet import exercises

# %% [markdown]
# **Exercise 1.** ResNet-34 has the same four stages, with 3, 4, 6 and 3 residual
# blocks. How many parameters does its b3, `resnet_block(64, 128, 4)`, have? Count by hand,
# then with `count_parameters`.

# %%
answer_3_1 = ...  # your answer

# %%
exercises.check("03.1", answer_3_1)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
def conv(a, b, k=3):  # k x k weights per channel pair, one bias per output channel
    return k * k * a * b + b


batch_norm = 2 * 128  # gamma and beta per channel
first_block = conv(64, 128) + conv(128, 128) + 2 * batch_norm + conv(64, 128, k=1)
other_block = 2 * conv(128, 128) + 2 * batch_norm
answer_3_1 = first_block + 3 * other_block
assert answer_3_1 == count_parameters(nn.Sequential(*resnet_block(64, 128, 4)))
assert exercises.check("03.1", answer_3_1)

# %% [markdown]
# **Exercise 2.** With three residual blocks in every stage, `resnet((3, 3, 3, 3))`,
# how many layers does the network have, counted as the notes count them?

# %%
answer_3_2 = ...  # your answer

# %%
exercises.check("03.2", answer_3_2)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
from d2lresnet import resnet

answer_3_2 = 1 + 2 * (4 * 3) + 1  # the 7x7 conv, two 3x3 convs in each of 12 blocks, the FC
assert count_layers(resnet((3, 3, 3, 3))) == answer_3_2
assert exercises.check("03.2", answer_3_2)
