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
# easier to modify.* This notebook builds the family of the paper's Table 1 from one table,
# beside torchvision's models and GoogLeNet's Inception blocks, and works through the book's
# five exercises. The cells compute the numbers and assert what they can test; what the papers
# measured (Exercise 5) is cited.

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
                       count_layers, count_parameters, display_name, exercises, resnet,
                       resnet_block)
from d2lresnet.experiments.family import family_table, format_family_table

# %% [markdown]
# ## The ResNet family from one table
#
# Like torchvision, the module lists the family in one table, `ARCHITECTURES`: a name, the
# kind of block and the blocks per stage; stem, widths and head are shared. `family_table`
# builds each member on the *meta* device (shapes, no numbers), as the notes would (1 input
# channel, 10 classes) and in torchvision's configuration (3 channels, 1000 classes, no conv
# bias, BatchNorm on the projection shortcut), beside torchvision's own parameter counts. It
# counts layers the notes' way, the shortcuts' 1x1 convolutions left out, and the
# multiply-adds (GMACs) of one forward pass at 96x96 (notebook 08 has them at 224x224).
# ResNet-34 has about twice the parameters and arithmetic of ResNet-18; ResNet-50, deeper
# still, costs only a little more than ResNet-34 (the bottleneck, Exercise 3). **Easier to
# modify**: from ResNet-18 to ResNet-34 only the blocks per stage change, from ResNet-34 to
# ResNet-50 only the block, and ResNeXt-50 swaps the block once more; the cell reads that from
# the table too.

# %%
rows = family_table()
by_name = {row["model"]: row for row in rows}
for columns in (["model", "block", "depths", "layers", "params", "gmacs_96"],
                ["model", "params_tv_config", "params_torchvision", "top1"]):
    print(format_family_table(rows, columns), end="\n\n")
assert [row["layers"] for row in rows] == [18, 34, 50, 101, 152, 50]  # counted in the modules
for row in rows:
    assert row["params_tv_config"] == row["params_torchvision"]  # parameter for parameter
assert by_name["ResNet-18"]["params"] == 11_178_378  # the notes' ResNet-18
r18, r34, r50 = (by_name[m] for m in ("ResNet-18", "ResNet-34", "ResNet-50"))
assert 1.8 < r34["params"] / r18["params"] < 2.1 and 1.8 < r34["gmacs_96"] / r18["gmacs_96"] < 2.1
assert r50["gmacs_96"] / r34["gmacs_96"] < 1.2 and r50["layers"] > r34["layers"]
steps = [("resnet18", "resnet34"), ("resnet34", "resnet50"), ("resnet50", "resnext50_32x4d")]
changed = [[field for field, x, y in zip(("block", "depths"), ARCHITECTURES[a], ARCHITECTURES[b])
            if x != y] for a, b in steps]  # which part of the entry differs
for (a, b), fields in zip(steps, changed):
    print(f"{display_name(a)} -> {display_name(b)}: {fields}", ARCHITECTURES[b][0].__name__,
          ARCHITECTURES[b][1])
assert changed == [["depths"], ["block"], ["block"]]

# %% [markdown]
# ### Easier to modify: one entry against an Inception block
#
# GoogLeNet is built from Inception blocks (D2L's section *Networks with Parallel
# Concatenations (GoogLeNet)*): four parallel paths, six convolutions whose channels are chosen
# by hand, for each of nine blocks. The paths are concatenated, so a block's output channels
# are the sum of its paths' and must equal the next block's input: the designer keeps that by
# hand too. A ResNet stage takes two numbers, channels and blocks, and every convolution in it,
# the 1x1 shortcut's included, has that one width. D2L's Inception block and GoogLeNet's nine;
# the cell runs the nine in a row, then changes one path's channels by one and runs them again:

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


def channel_choices(module):  # the output channels of each of its convolutions
    return [m.out_channels for m in module.modules() if isinstance(m, nn.Conv2d)]


def run_in_a_row(table):
    """The blocks one after the other (shapes only); the error if one does not fit the next."""
    with torch.device("meta"):
        try:
            nn.Sequential(*(Inception(*args) for args in table))(torch.empty(1, 192, 7, 7))
        except RuntimeError as error:
            return str(error).splitlines()[0]


one_off = [GOOGLENET[0][:4] + (GOOGLENET[0][4] + 1,)] + GOOGLENET[1:]  # b3's pool path: 33
assert run_in_a_row(GOOGLENET) is None and run_in_a_row(one_off) is not None
print(run_in_a_row(one_off))
inception_numbers = [channel_choices(Inception(*args)) for args in GOOGLENET]
stage = nn.Sequential(*resnet_block(64, 128, 2))  # ResNet-18's b3: 128 channels, 2 blocks
assert set(channel_choices(stage)) == {128}  # one width for all its convolutions
print(sum(map(len, inception_numbers)), "numbers chosen by hand:", inception_numbers[:2], "...")

# %% [markdown]
# ## Exercises (练习)
#
# The book's five exercises, each with a question whose answer you can check: replace the
# `...` in its answer cell, run it and the check below it (a hint when wrong, never the answer).
# A solution is folded under each check; the worked answer follows it.
#
# ### Exercise 1. Inception block vs residual block
#
# *What are the major differences between the Inception block and the residual block? After
# removing some paths in the Inception block, how are they related to each other?*
#
# **Check yourself.** How many channels does `Inception(192, 64, (96, 128), (16, 32), 32)`
# put out for an input of 192 channels? (A residual block without a 1x1 convolution puts out
# as many as it takes in.)

# %%
answer_7_1 = ...  # your answer

# %%
exercises.check("07.1", answer_7_1)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
inception = Inception(192, 64, (96, 128), (16, 32), 32)
answer_7_1 = 64 + 128 + 32 + 32  # the four paths' last layers, concatenated
assert inception(torch.rand(1, 192, 28, 28)).shape[1] == answer_7_1
assert exercises.check("07.1", answer_7_1)

# %% [markdown]
# **Worked answer.**
#
# * **How paths merge.** Inception **concatenates** its paths (1x1, 3x3, 5x5 convolutions, a
#   max-pool); a residual block **adds** its branch (two 3x3 convolutions) to the input itself.
# * **No identity path in Inception.** Passing the input through unchanged must be learned;
#   a residual block does it when its branch outputs zero. The notes' recipe ("set the upper
#   layer's weights and bias to 0") applied to each Inception path's last layer and to the
#   residual branch's (`bn2`):

# %%
inception, residual = Inception(192, 64, (96, 128), (16, 32), 32), Residual(192, 192)
paths = (inception.p1_1, inception.p2_2, inception.p3_2, inception.p4_2)  # each path's last
with torch.no_grad():
    for last in paths:
        last.weight.zero_(), last.bias.zero_()
residual.zero_init_().eval()  # bn2's scale and shift at zero
X = torch.rand(2, 192, 28, 28)  # non-negative, like the output of a ReLU
assert inception(X).shape[1] == sum(p.out_channels for p in paths) != X.shape[1]
assert torch.count_nonzero(inception(X)) == 0  # the input is lost
assert torch.equal(residual(X), X)  # the input passes through

# %% [markdown]
# *After removing paths.* Keep only Inception's second path (1x1, then 3x3), end it with a 1x1
# convolution back to the input's channels and add the input: the bottleneck of Exercise 3.
# Keep many alike paths and add the input: ResNeXt's block (notebook 08).
#
# ### Exercise 2. The variants of the paper's Table 1
#
# *Refer to Table 1 in the ResNet paper to implement different variants.*
#
# **Check yourself.** Build ResNet-34 with the notes' `resnet(...)`: Table 1 gives its
# residual blocks per stage. Answer with the network.

# %%
answer_7_2 = ...  # your answer

# %%
exercises.check("07.2", answer_7_2)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
answer_7_2 = resnet((3, 4, 6, 3))  # Table 1: 3, 4, 6 and 3 basic blocks per stage
assert count_layers(answer_7_2) == 1 + 2 * (3 + 4 + 6 + 3) + 1
assert exercises.check("07.2", answer_7_2)

# %% [markdown]
# **Worked answer.** Table 1's five networks are the family table above, one entry each in
# `ARCHITECTURES`, each with torchvision's parameters (notebook 08 checks their multiply-adds
# against Table 1).
#
# ### Exercise 3. The bottleneck, for deeper networks
#
# *For deeper networks, ResNet introduces a "bottleneck" architecture to reduce model
# complexity. Try to implement it.*
#
# **Check yourself.** How many parameters does `Bottleneck(1024, 256)` have (ResNet-50's
# block inside b4: 1024 channels in and out, 256 inside)? Count by hand first.

# %%
answer_7_3 = ...  # your answer

# %%
exercises.check("07.3", answer_7_3)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
conv1 = 1024 * 256 + 256  # 1x1, 1024 -> 256 channels, with a bias per output
conv2 = 9 * 256 * 256 + 256  # 3x3, 256 -> 256
conv3 = 256 * 1024 + 1024  # 1x1, 256 -> 1024
batch_norms = 2 * (256 + 256 + 1024)  # a scale and a shift per channel
answer_7_3 = conv1 + conv2 + conv3 + batch_norms
assert answer_7_3 == count_parameters(Bottleneck(1024, 256))
assert exercises.check("07.3", answer_7_3)

# %% [markdown]
# **Worked answer.** `Bottleneck` replaces the two 3x3 convolutions by a 1x1 convolution that
# divides the channels by 4, a 3x3 convolution on those, and a 1x1 convolution back. At the same
# width, 256 channels in and out (ResNet-50's first stage between blocks), against a basic block:

# %%
def size_and_cost(block, input_shape):
    """Parameters and forward MFLOPs of one block."""
    return count_parameters(block), count_flops(nn.Sequential(block), input_shape) / 1e6


X = torch.rand(1, 256, 14, 14)
assert Bottleneck(256, 64)(X).shape == Residual(256, 256)(X).shape == X.shape
basic, bottleneck = (size_and_cost(b, X.shape) for b in (Residual(256, 256), Bottleneck(256, 64)))
print({"Residual(256, 256)": basic, "Bottleneck(256, 64)": bottleneck})
assert basic[0] / bottleneck[0] > 15 and basic[1] / bottleneck[1] > 15

# %% [markdown]
# For the same channels the bottleneck costs over 15 times less. The paper spends that saving
# on depth: three layers where a basic block has two, on four times the channels, for about
# the same cost. That is how ResNet-50 has 50 layers for little more arithmetic than
# ResNet-34 (the family table's `gmacs_96` column).
#
# ### Exercise 4. The pre-activation block ("Identity Mappings")
#
# *In subsequent versions of ResNet, the authors changed the "convolution, batch normalization,
# and activation" structure to the "batch normalization, activation, and convolution"
# structure. Make this improvement yourself. See Figure 1 in He et al. (2016) for details.*
#
# **Check yourself.** In what order does the input meet the layers of a pre-activation
# block's branch? Answer with a list of `"conv"`, `"bn"` and `"relu"`.

# %%
answer_7_4 = ...  # your answer

# %%
exercises.check("07.4", answer_7_4)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
answer_7_4 = ["bn", "relu", "conv", "bn", "relu", "conv"]  # each conv after its BN and ReLU
assert exercises.check("07.4", answer_7_4)

# %% [markdown]
# **Worked answer.** He et al. (2016) moved BatchNorm and ReLU in front of each convolution;
# nothing follows the addition any more, in particular no ReLU:

# %%
print(inspect.getsource(PreActResidual.forward))

# %% [markdown]
# With nothing after the addition, the shortcuts of a whole stack form one identity path:
# notebook 08 measures how much of the gradient arrives unchanged through 64 blocks of each
# kind, and builds the whole pre-activation ResNet-18. **Try it yourself:** train
# `resnet(block=PreActResidual)` and `resnet18()` as notebook 05 does.
#
# ### Exercise 5. Why not grow the function class without bound?
#
# *Why can't we just increase the complexity of functions without bound, even if the function
# classes are nested?*
#
# **Check yourself.** About how many times the arithmetic of the paper's 20-layer CIFAR
# network (n = 3 blocks per stage) does its 110-layer one (n = 18) spend on a 32x32 image?
# Within 5% counts as right.

# %%
answer_7_5 = ...  # your answer

# %%
exercises.check("07.5", answer_7_5)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
from d2lresnet.experiments.twins import cifar_resnet

shape = (1, 1, 32, 32)
answer_7_5 = count_flops(cifar_resnet(18), shape) / count_flops(cifar_resnet(3), shape)
by_blocks = (3 * 18) / (3 * 3)  # every block costs about the same
print(f"{answer_7_5:.2f}, counting blocks: {by_blocks:.0f}")
assert exercises.check("07.5", answer_7_5) and exercises.check("07.5", by_blocks)

# %% [markdown]
# **Worked answer.** Nesting guarantees that a bigger class **contains** a function at least as
# good as the best of the smaller one, not that it is easy to find, cheap to run, or likely to
# generalise:
#
# * **Compute.** Each block adds a fixed cost: every step and prediction grows with depth.
# * **Overfitting.** More functions fit the training data but not the test data: the paper's
#   1202-layer CIFAR-10 network tested worse than its 110-layer one (Table 6: 7.93% against
#   6.43% error, not run here).
# * **Diminishing returns.** Each step up in size buys less accuracy.
#
# Notebook 08 measures the first and the last: the cost of the paper's CIFAR networks grows
# on a straight line with depth, and from ResNet-50 on each step buys fewer ImageNet points
# per extra multiply-add.
#
# ## Summary
#
# * The ResNet family is one table: ResNet-18 to ResNet-34 changes the blocks per stage,
#   ResNet-50 the block; each member has torchvision's parameters. GoogLeNet needs six
#   hand-chosen channel numbers per Inception block, and their sums must chain.
# * The bottleneck costs 15 times less than a basic block of the same width: ResNet-50 has 50
#   layers for about ResNet-34's cost.
# * With pre-activation nothing follows the addition, so the shortcuts of a stack form one
#   identity path (notebook 08 measures the gradient along it).
# * A bigger nested class is not free: it costs compute, can overfit, and buys less and less.
