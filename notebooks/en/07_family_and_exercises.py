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
# # The ResNet family and the exercises (ResNet家族与练习)
#
# The notes: *although ResNet's main architecture is similar to GoogLeNet's, it is simpler and
# easier to modify.* You build the family of the ResNet paper's Table 1 from one table, change
# one number in GoogLeNet and in ResNet, then answer the book's five exercises. Nothing
# trains: Run All takes about 15 seconds under the default preset on a 2-core CPU.

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

# %%
import inspect

import torch
from torch import nn
from torch.nn import functional as F

from d2lresnet import (ARCHITECTURES, Bottleneck, PreActResidual, Residual, count_flops,
                       count_parameters, display_name, exercises, resnet)
from d2lresnet.experiments.family import family_table, format_family_table
from d2lresnet.model import STAGE_WIDTHS

# %% [markdown]
# ## The ResNet family from one table
#
# `ARCHITECTURES` lists the family in one table: each member's kind of block and blocks per
# stage; all else is shared. `family_table` builds each member as the
# notes would (1 input channel, 10 classes); `gmacs_96` counts the billions of multiply-adds
# per 96x96 image, and `top1` is torchvision's ImageNet accuracy. The cell checks that
# ResNet-34 has about twice ResNet-18's parameters and arithmetic, while ResNet-50, deeper
# still, costs little more than ResNet-34 (the bottleneck, Exercise 3); then it prints what
# changes from one member to the next.

# %%
rows = family_table()
print(format_family_table(rows, ["model", "block", "depths", "layers", "params", "gmacs_96",
                                  "top1"]), end="\n\n")
r18, r34, r50 = rows[:3]
assert 1.8 < r34["params"] / r18["params"] < 2.1 and 1.8 < r34["gmacs_96"] / r18["gmacs_96"] < 2.1
assert r50["layers"] > r34["layers"] and r50["gmacs_96"] / r34["gmacs_96"] < 1.2
for a, b in [("resnet18", "resnet34"), ("resnet34", "resnet50"), ("resnet50", "resnext50_32x4d")]:
    (block_a, depths_a), (block_b, depths_b) = ARCHITECTURES[a], ARCHITECTURES[b]
    if depths_a != depths_b:
        print(i18n.tr("family_new_depths", a=display_name(a), b=display_name(b),
                      old=depths_a, new=depths_b))
    if block_a is not block_b:
        print(i18n.tr("family_new_block", a=display_name(a), b=display_name(b),
                      old=block_a.__name__, new=block_b.__name__))

# %% [markdown]
# ### Easier to modify than GoogLeNet
#
# GoogLeNet stacks nine Inception blocks (D2L, *Networks with Parallel Concatenations*), each
# with four parallel paths and six hand-chosen channel numbers. The paths are concatenated, so
# a block puts out the sum of its paths' channels, and the next block must be built for that
# sum. A ResNet stage takes two numbers, its channels and its blocks. The cell widens one
# Inception path by one channel, and ResNet-18's b3 by one channel:

# %%
class Inception(nn.Module):
    # D2L's Inception block; c1--c4 are the output channels of the four paths
    def __init__(self, in_channels, c1, c2, c3, c4):
        super().__init__()
        self.p1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.p2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.p3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)

    def forward(self, x):
        p1 = F.relu(self.p1_1(x))
        p2 = F.relu(self.p2_2(F.relu(self.p2_1(x))))
        p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))
        p4 = F.relu(self.p4_2(self.p4_1(x)))
        return torch.cat((p1, p2, p3, p4), dim=1)


GOOGLENET = [(192, 64, (96, 128), (16, 32), 32), (256, 128, (128, 192), (32, 96), 64),  # b3
             (480, 192, (96, 208), (16, 48), 64), (512, 160, (112, 224), (24, 64), 64),  # b4
             (512, 128, (128, 256), (24, 64), 64), (512, 112, (144, 288), (32, 64), 64),
             (528, 256, (160, 320), (32, 128), 128),
             (832, 256, (160, 320), (32, 128), 128), (832, 384, (192, 384), (48, 128), 128)]  # b5


def first_misfit(table):
    """Runs the blocks one after the other (shapes only, on the meta device); returns the
    first block that cannot take what the block before put out, or None if all fit."""
    x = torch.empty(1, table[0][0], 7, 7, device="meta")
    for number, args in enumerate(table, start=1):
        with torch.device("meta"):
            block = Inception(*args)
        try:
            x = block(x)
        except RuntimeError:  # a convolution given the wrong number of channels
            return dict(block=number, got=x.shape[1], built_for=args[0])


one_off = [GOOGLENET[0][:4] + (GOOGLENET[0][4] + 1,)] + GOOGLENET[1:]  # b3's pool path: 33
with torch.device("meta"):
    wider = resnet(stage_widths=(64, 129, 256, 512))  # b3 one channel wider
assert first_misfit(GOOGLENET) is None and first_misfit(one_off) is not None
assert wider(torch.empty(1, 1, 96, 96, device="meta")).shape == (1, 10)  # b4 takes b3's width
print(i18n.tr("inception_misfit", **first_misfit(one_off)))
hand_chosen = sum(isinstance(m, nn.Conv2d) for args in GOOGLENET for m in Inception(*args).modules())
print(i18n.tr("numbers_by_hand", inception=hand_chosen,
              resnet=len(STAGE_WIDTHS) + len(ARCHITECTURES["resnet18"][1])))

# %% [markdown]
# ## Exercises (练习)
#
# Each of the book's five exercises comes with a question you can check: replace the `...`
# in the answer cell, run it and the check below it; a wrong answer gets a hint. A solution
# and a worked answer follow.
#
# ### Exercise 1. Inception block vs residual block
#
# *What are the major differences between the Inception block and the residual block? After
# removing some paths in the Inception block, how are they related to each other?*
#
# **Check yourself.** How many channels does `Inception(192, 64, (96, 128), (16, 32), 32)`
# put out for an input of 192 channels? Answer with an integer.

# %%
answer_7_1 = ...  # your answer · 你的答案

# %%
exercises.check("07.1", answer_7_1)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
solution_7_1 = 64 + 128 + 32 + 32  # the four paths' last layers, concatenated
assert exercises.check("07.1", solution_7_1)

# %% [markdown] tags=["solution"]
# **Worked answer.** Inception **concatenates** its paths; a residual block **adds** its
# branch to the input. A residual block passes its input through when its branch puts out
# zero (notebook 02); no Inception path carries the input, so the identity must be learned. Keep only Inception's 1x1-then-3x3 path, end it with a 1x1 convolution back to the
# input's channels and add the input: the bottleneck of Exercise 3. Keep many alike paths and
# add the input: ResNeXt's block (notebook 08).

# %% [markdown]
# ### Exercise 2. The variants of the paper's Table 1
#
# *Refer to Table 1 in the ResNet paper to implement different variants.*
#
# **Check yourself.** Build ResNet-34 with the notes' `resnet(...)`: Table 1 gives its
# residual blocks per stage. Answer with the built network, an `nn.Module`.

# %%
answer_7_2 = ...  # your answer · 你的答案

# %%
exercises.check("07.2", answer_7_2)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
solution_7_2 = resnet((3, 4, 6, 3))  # Table 1: 3, 4, 6 and 3 basic blocks per stage
assert exercises.check("07.2", solution_7_2)

# %% [markdown] tags=["solution"]
# **Worked answer.** Table 1's five networks are the family table's first five rows.

# %% [markdown]
# ### Exercise 3. The bottleneck, for deeper networks
#
# *For deeper networks, ResNet introduces a "bottleneck" architecture to reduce model
# complexity. Try to implement it.*
#
# **Check yourself.** How many parameters does `Bottleneck(1024, 256)` have (1024 channels in
# and out, 256 inside)? Answer with an integer counting every trainable parameter, the
# convolutions' biases and BatchNorm's scale and shift included. Count by hand first.

# %%
answer_7_3 = ...  # your answer · 你的答案

# %%
exercises.check("07.3", answer_7_3)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
conv1 = 1024 * 256 + 256  # 1x1, 1024 -> 256 channels, with a bias per output
conv2 = 9 * 256 * 256 + 256  # 3x3, 256 -> 256
conv3 = 256 * 1024 + 1024  # 1x1, 256 -> 1024
batch_norms = 2 * (256 + 256 + 1024)  # a scale and a shift per channel
solution_7_3 = conv1 + conv2 + conv3 + batch_norms
assert exercises.check("07.3", solution_7_3)

# %% [markdown] tags=["solution"]
# **Worked answer.** `Bottleneck` replaces the two 3x3 convolutions by a 1x1 convolution that
# divides the channels by 4, a 3x3 convolution on those, and a 1x1 convolution back. Against a
# basic block of the same width:

# %% tags=["solution"]
X = torch.rand(1, 256, 14, 14)  # both blocks: 256 channels in and out
cost = {}
for name, block in (("Residual(256, 256)", Residual(256, 256)),
                    ("Bottleneck(256, 64)", Bottleneck(256, 64))):
    cost[name] = count_parameters(block), count_flops(nn.Sequential(block), X.shape)
    print(i18n.tr("block_cost", block=name, params=cost[name][0], mflops=cost[name][1] / 1e6))
basic, bottleneck = cost.values()
assert basic[0] / bottleneck[0] > 15 and basic[1] / bottleneck[1] > 15

# %% [markdown] tags=["solution"]
# The bottleneck costs over 15 times less. The paper spends the saving on depth and width:
# three layers on four times the channels for about a basic block's cost, so ResNet-50 has 50
# layers for little more arithmetic than ResNet-34.

# %% [markdown]
# ### Exercise 4. The pre-activation block ("Identity Mappings")
#
# *In subsequent versions of ResNet, the authors changed the "convolution, batch normalization,
# and activation" structure to the "batch normalization, activation, and convolution"
# structure. Make this improvement yourself. See Figure 1 in He et al. (2016) for details.*
#
# **Check yourself.** From a pre-activation block's input to its output, in what order does
# the input meet the layers and the addition? Answer with a list of `"conv"`, `"bn"`, `"relu"`
# and `"add"`.

# %%
answer_7_4 = ...  # your answer · 你的答案

# %%
exercises.check("07.4", answer_7_4)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
solution_7_4 = ["bn", "relu", "conv", "bn", "relu", "conv", "add"]  # nothing after the addition
assert exercises.check("07.4", solution_7_4)

# %% [markdown] tags=["solution"]
# **Worked answer.** He et al. (2016) moved BatchNorm and ReLU in front of each convolution;
# nothing follows the addition any more, in particular no ReLU:

# %% tags=["solution"]
print(inspect.getsource(PreActResidual.forward))

# %% [markdown] tags=["solution"]
# So the shortcuts of a whole stack form one identity path (notebook 08 follows the gradient
# along it).

# %% [markdown]
# ### Exercise 5. Why not grow the function class without bound?
#
# *Why can't we just increase the complexity of functions without bound, even if the function
# classes are nested?*
#
# **Check yourself.** About how many times the arithmetic of the paper's 20-layer CIFAR
# network (n = 3 blocks per stage) does its 110-layer one (n = 18) spend on a 32x32 image?
# Answer with a number; within 5% counts as right.

# %%
answer_7_5 = ...  # your answer · 你的答案

# %%
exercises.check("07.5", answer_7_5)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
from d2lresnet.experiments.twins import cifar_resnet

shape = (1, 1, 32, 32)
solution_7_5 = count_flops(cifar_resnet(18), shape) / count_flops(cifar_resnet(3), shape)
by_blocks = (3 * 18) / (3 * 3)  # every block costs about the same
print(round(solution_7_5, 2), by_blocks)
assert exercises.check("07.5", solution_7_5) and exercises.check("07.5", by_blocks)

# %% [markdown] tags=["solution"]
# **Worked answer.** Nesting guarantees that a bigger class **contains** a function at least as
# good as the smaller one's best, not that it is easy to find, cheap, or generalises:
#
# * **Compute.** Each block adds a fixed cost to every step and prediction.
# * **Overfitting.** The paper's 1202-layer CIFAR-10 network tested worse than its 110-layer
#   one (Table 6: 7.93% against 6.43% error).
# * **Diminishing returns.** From ResNet-50 on, each step of the family buys fewer ImageNet
#   points per extra multiply-add (`top1`; notebook 08 plots it). Not before: ResNet-34 to 50,
#   the bottleneck's cheap step, buys more per multiply-add than 18 to 34.

# %% [markdown]
# ## Summary
#
# * The ResNet family is one table: ResNet-34 changes ResNet-18's blocks per stage, ResNet-50
#   the block. Widening a ResNet stage is one number; widening one Inception path breaks the
#   chain of hand-chosen channel sums.
# * The bottleneck gives ResNet-50 its 50 layers for about ResNet-34's cost.
# * A bigger nested class is not free: it costs compute, can overfit, and buys less and less.

# %% [markdown]
# ## Going further
#
# * Train `resnet(block=PreActResidual)` beside `resnet18()` as notebook 05 does, with the same
#   recipe and seed, and compare their curves.
# * Notebook 08 builds the whole pre-activation ResNet-18 and ResNeXt-50, measures the gradient
#   along a stack's shortcuts, and puts the family's ImageNet accuracy against its arithmetic.
# * In torchvision's configuration (3 input channels, 1000 classes, no bias in the
#   convolutions, BatchNorm after the shortcut's 1x1 convolution), every member of the family
#   has exactly torchvision's parameters:

# %%
print(format_family_table(rows, ["model", "params_tv_config", "params_torchvision"]))
