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

# %%
from d2lresnet import i18n
i18n.set_notebook_language()

# %% [markdown]
# # The ResNet family and the exercises (ResNet家族与练习)
#
# The notes: *although ResNet's main architecture is similar to GoogLeNet's, it is simpler and
# easier to modify.* This notebook builds the family of the paper's Table 1 from one table,
# beside torchvision's models, and counts what GoogLeNet's Inception blocks ask instead; adds
# ResNeXt, which the English edition of D2L presents in the same section; and works through
# the book's five exercises. Every claim is computed by a cell and checked by an `assert`.

# %%
import inspect

import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.nn import functional as F

from d2lresnet import (ARCHITECTURES, Bottleneck, PreActResidual, ResNeXtBottleneck, Residual,
                       architecture, count_flops, count_layers, count_parameters, display_name,
                       resnet, resnet18, resnet_block)
from d2lresnet.experiments.family import family_table, format_family_table
from d2lresnet.i18n import label
from d2lresnet.experiments.twins import cifar_resnet, depth_to_n

# %% [markdown]
# ## The ResNet family from one table
#
# Like torchvision, the module lists the family in one table, `ARCHITECTURES`: a name, the
# kind of block and the blocks per stage; stem, widths (64, 128, 256, 512) and head are shared.
# `family_table` builds each member as the notes would (1 input channel, 10 classes) and in
# torchvision's configuration (3 channels, 1000 classes, no conv bias, BatchNorm on the
# projection shortcut), on the *meta* device (shapes without numbers: even ResNet-152 costs
# nothing). It counts layers the notes' way: the 1x1 convolutions on the shortcuts are learned
# projections, but they lie off the main path, so they are not counted. It counts parameters
# and the multiply-adds (GMACs) of one forward pass at the notes' 96x96 and at ImageNet's
# 224x224, beside torchvision's own figures from its metadata (nothing is downloaded).
# ResNet-34 comes out with about twice the parameters and arithmetic of ResNet-18; ResNet-50,
# deeper still, costs only a little more than ResNet-34 (the bottleneck, Exercise 3).
# ResNeXt-50, the last row, comes later. Computed once, the table serves the whole notebook.

# %%
rows = family_table()
by_name = {row["model"]: row for row in rows}
for columns in (["model", "block", "depths", "layers", "params", "gmacs_96"],
                ["model", "params_tv_config", "params_torchvision", "top1"],
                ["model", "gmacs_224", "gmacs_torchvision"]):
    print(format_family_table(rows, columns), end="\n\n")
assert [row["layers"] for row in rows] == [18, 34, 50, 101, 152, 50]  # counted in the modules
for row in rows:
    assert row["params_tv_config"] == row["params_torchvision"]  # parameter for parameter
    assert abs(row["gmacs_224"] / row["gmacs_torchvision"] - 1) < 0.01
assert by_name["ResNet-18"]["params"] == 11_178_378  # the notes' ResNet-18
r18, r34, r50 = (by_name[m] for m in ("ResNet-18", "ResNet-34", "ResNet-50"))
assert 1.8 < r34["params"] / r18["params"] < 2.1
assert 1.8 < r34["gmacs_96"] / r18["gmacs_96"] < 2.1
assert r50["gmacs_96"] / r34["gmacs_96"] < 1.2 and r50["layers"] > r34["layers"]

# %% [markdown]
# ### Easier to modify: one entry against an Inception block
#
# From ResNet-18 to ResNet-34 only the blocks per stage change; from ResNet-34 to ResNet-50
# only the block; and ResNeXt-50 swaps the block once more. Read from the table:

# %%
steps = [("resnet18", "resnet34"), ("resnet34", "resnet50"), ("resnet50", "resnext50_32x4d")]
changed = [[field for field, x, y in zip(("block", "depths"), ARCHITECTURES[a], ARCHITECTURES[b])
            if x != y] for a, b in steps]  # which part of the entry differs
for (a, b), fields in zip(steps, changed):
    print(f"{display_name(a)} -> {display_name(b)}: {fields}", ARCHITECTURES[b][0].__name__,
          ARCHITECTURES[b][1])
assert changed == [["depths"], ["block"], ["block"]]

# %% [markdown]
# GoogLeNet is built from Inception blocks (D2L's section *Networks with Parallel
# Concatenations (GoogLeNet)*): four parallel paths, six convolutions whose channels are chosen
# by hand, for each of nine blocks. The paths are concatenated, so a block's output channels
# are the sum of its paths' and must equal the next block's input: the designer keeps that by
# hand too. A ResNet stage takes two numbers, channels and blocks, and every convolution in it,
# the 1x1 shortcut's included, has that one width. D2L's Inception block and GoogLeNet's nine:

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


def channel_choices(module):
    """The output channels of each of its convolutions, in order."""
    return [m.out_channels for m in module.modules() if isinstance(m, nn.Conv2d)]


with torch.device("meta"):  # shapes only
    inceptions = [Inception(*args) for args in GOOGLENET]
    outputs = [blk(torch.empty(1, blk.p1_1.in_channels, 7, 7)).shape[1] for blk in inceptions]
inputs = [blk.p1_1.in_channels for blk in inceptions]
assert outputs[:-1] == inputs[1:] and outputs[-1] == 1024  # each block feeds the next
inception_numbers = [channel_choices(blk) for blk in inceptions]
stage = nn.Sequential(*resnet_block(64, 128, 2))  # ResNet-18's b3: 128 channels, 2 blocks
assert set(channel_choices(stage)) == {128}  # one width for all its convolutions
print(len(inceptions), "x", len(inception_numbers[0]), "=", sum(map(len, inception_numbers)),
      inception_numbers[:2], "...")

# %% [markdown]
# ## ResNeXt: grouped convolutions
#
# D2L's English edition extends this section (*Residual Networks (ResNet) and ResNeXt*) with
# ResNeXt (Xie et al., 2017). It keeps Inception's several parallel paths but makes them all
# alike, so no path needs its own numbers. The paths are a *grouped convolution*: the $c_i$
# input channels are split into $g$ groups of $c_i/g$, and each group computes its own $c_o/g$
# output channels from its own inputs only. That is $g$ separate convolutions side by side:

# %%
X = torch.randn(1, 256, 14, 14)
grouped = nn.Conv2d(256, 256, kernel_size=3, padding=1, groups=32)
parts = [F.conv2d(x, w, b, padding=1) for x, w, b in
         zip(X.chunk(32, dim=1), grouped.weight.chunk(32), grouped.bias.chunk(32))]
assert torch.allclose(grouped(X), torch.cat(parts, dim=1), atol=1e-5)

# %% [markdown]
# So its cost falls from $\mathcal{O}(c_i c_o)$ to
# $\mathcal{O}(g \cdot \frac{c_i}{g} \cdot \frac{c_o}{g}) = \mathcal{O}(c_i c_o / g)$: $g$
# times fewer parameters and multiply-adds. Counted for this 3x3 convolution (no bias), 256
# channels in and out at 14x14:

# %%
cost = []
for g in (1, 2, 4, 8, 16, 32):
    conv = nn.Conv2d(256, 256, kernel_size=3, padding=1, groups=g, bias=False)
    cost.append(dict(groups=g, params=count_parameters(conv),
                     mmacs=count_flops(nn.Sequential(conv), X.shape) / 2e6))
print(format_family_table(cost))
for row in cost:
    assert row["params"] == row["groups"] * (256 // row["groups"]) ** 2 * 3 * 3
    assert row["params"] * row["groups"] == cost[0]["params"]  # 1/g of the full convolution
    assert abs(row["mmacs"] * row["groups"] / cost[0]["mmacs"] - 1) < 1e-9

# %% [markdown]
# ResNeXt spends the saving on width. `Bottleneck` takes `groups` and `width_per_group` as
# torchvision's does: the 3x3 convolution has num_channels x width_per_group / 64 channels per
# group. ResNeXt-50 (32x4d) has 32 groups of 4 (per 64), so where ResNet-50's first stage
# runs 64 channels through its 3x3 convolution, ResNeXt's runs 128, for about the same cost:

# %%
resnet_block_b2, resnext_block_b2 = Bottleneck(256, 64), ResNeXtBottleneck(256, 64)
print(resnext_block_b2.conv2)
assert resnext_block_b2.conv2.in_channels == 2 * resnet_block_b2.conv2.in_channels == 128
assert abs(count_parameters(resnext_block_b2) / count_parameters(resnet_block_b2) - 1) < 0.02

# %% [markdown]
# With that block and ResNet-50's stages, ResNeXt-50 is one more entry of `ARCHITECTURES`, the
# table's last row. In torchvision's configuration it has exactly the parameters of
# torchvision's `resnext50_32x4d`, costs about as much as ResNet-50, and its published weights
# reach 1.5 points more ImageNet top-1:

# %%
resnext = by_name["ResNeXt-50 (32x4d)"]
print(format_family_table([r50, resnext], ["model", "params_tv_config",
                                           "params_torchvision", "gmacs_224", "top1"]))
assert resnext["params_tv_config"] == resnext["params_torchvision"] == 25_028_904
assert resnext["params_tv_config"] < r50["params_tv_config"]
assert abs(resnext["gmacs_224"] / r50["gmacs_224"] - 1) < 0.05
assert resnext["top1"] - r50["top1"] > 1

# %% [markdown]
# ## Exercises (练习)
#
# ### Exercise 1. Inception block vs residual block
#
# *What are the major differences between the Inception block and the residual block? After
# removing some paths in the Inception block, how are they related to each other?*
#
# * **How paths merge.** Inception *concatenates* its paths: its output channels are the sum
#   of the paths'. A residual block *adds* its branch to its input: the two share one shape.
# * **What the paths are.** Inception runs 1x1, 3x3, 5x5 convolutions and a max-pool side by
#   side. The residual block has one path of two 3x3 convolutions and a second path that is
#   *the input itself*.
# * **No identity path in Inception.** Every Inception path transforms its input, so passing
#   it through unchanged must be *learned*; a residual block does it when its branch outputs
#   zero. Both with their weights at zero:

# %%
inception, residual = Inception(192, 64, (96, 128), (16, 32), 32), Residual(192, 192)
with torch.no_grad():
    for p in inception.parameters():
        p.zero_()
residual.zero_init_().eval()
X = torch.rand(2, 192, 28, 28)  # non-negative, like the output of a ReLU
paths = (inception.p1_1, inception.p2_2, inception.p3_2, inception.p4_2)
assert inception(X).shape[1] == sum(p.out_channels for p in paths) != X.shape[1]
assert torch.count_nonzero(inception(X)) == 0  # weights at zero: the input is lost
assert torch.equal(residual(X), X)  # branch at zero: the input passes through

# %% [markdown]
# *After removing paths.* Keep only Inception's second path (1x1, then 3x3), end it with a 1x1
# convolution back to the input's channels, and add the input instead of concatenating: that
# is the bottleneck block of Exercise 3. Keep many paths, make them alike and add the input:
# that is ResNeXt's block. A residual block is a two-path block (branch and identity), added.
#
# ### Exercise 2. The variants of the paper's Table 1
#
# *Refer to Table 1 in the ResNet paper to implement different variants.*
#
# Table 1's five networks are the family table above, which matched torchvision's layers,
# parameters and multiply-adds. Left to check: Table 1's own FLOPs row (multiply-adds):

# %%
table1_gmacs = {"ResNet-18": 1.8, "ResNet-34": 3.6, "ResNet-50": 3.8, "ResNet-101": 7.6,
                "ResNet-152": 11.3}  # He et al. 2015, Table 1, "FLOPs" (x 10^9)
table1 = [dict(row, table1=table1_gmacs[row["model"]],
               ours_over_table1=row["gmacs_224"] / table1_gmacs[row["model"]])
          for row in rows if row["model"] in table1_gmacs]
print(format_family_table(table1, ["model", "gmacs_224", "table1", "ours_over_table1"]))
for row in table1[:2]:  # ResNet-18 and ResNet-34
    assert abs(row["ours_over_table1"] - 1) < 0.025  # Table 1 rounds to 0.1
assert 0.05 < table1[2]["ours_over_table1"] - 1 < 0.1  # ResNet-50

# %% [markdown]
# The basic-block networks agree, but ResNet-50 comes out well above the paper's 3.8, because
# of where the stride sits. The paper's stride-2 bottleneck halves the resolution in its first
# 1x1 convolution; torchvision (and our `Bottleneck`) move the stride to the 3x3 convolution
# ("ResNet v1.5", slightly more accurate), so that 1x1 convolution runs on four times the
# area. Moving the stride back gives the paper's numbers:

# %%
for row in table1[2:]:  # ResNet-50, -101, -152
    with torch.device("meta"):  # shapes only
        v1 = architecture(row["model"].replace("ResNet-", "resnet"), in_channels=3,
                          num_classes=1000, torchvision_compat=True)
    for blk in v1.modules():  # the paper's bottleneck: the stride in conv1 (1x1), not conv2
        if isinstance(blk, Bottleneck) and blk.conv2.stride == (2, 2):
            blk.conv1.stride, blk.conv2.stride = (2, 2), (1, 1)
    gmacs_v1 = count_flops(v1, (1, 3, 224, 224)) / 2e9
    print(row["model"], round(row["gmacs_224"], 2), round(gmacs_v1, 2), row["table1"])
    assert abs(gmacs_v1 / row["table1"] - 1) < 0.025
    assert abs(row["ours_over_table1"] - 1) > abs(gmacs_v1 / row["table1"] - 1)

# %% [markdown]
# ### Exercise 3. The bottleneck, for deeper networks
#
# *For deeper networks, ResNet introduces a "bottleneck" architecture to reduce model
# complexity. Try to implement it.*
#
# `Bottleneck` replaces the two 3x3 convolutions by a 1x1 convolution that reduces the
# channels by 4, a 3x3 convolution on the reduced channels, and a 1x1 convolution that expands
# them back (print `Bottleneck(256, 64)` to see its layers). At the same width, 256 channels in
# and out (what ResNet-50's first stage carries between blocks), against a basic block:

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
# on depth: a bottleneck on 256 channels costs about as much as a basic block on 64 channels
# (at 56x56 below), with three layers instead of two and a four times wider output. That is
# how ResNet-50 has 50 layers for about the arithmetic of ResNet-34:

# %%
basic_64 = size_and_cost(Residual(64, 64), (1, 64, 56, 56))
bottleneck_256 = size_and_cost(Bottleneck(256, 64), (1, 256, 56, 56))
print({"Residual(64, 64)": basic_64, "Bottleneck(256, 64)": bottleneck_256})  # at 56x56
assert all(abs(b / a - 1) < 0.1 for a, b in zip(basic_64, bottleneck_256))
assert r50["gmacs_224"] / r34["gmacs_224"] < 1.15

# %% [markdown]
# ### Exercise 4. The pre-activation block ("Identity Mappings")
#
# *In subsequent versions of ResNet, the authors changed the "convolution, batch normalization,
# and activation" structure to the "batch normalization, activation, and convolution"
# structure. Make this improvement yourself. See Figure 1 in He et al. (2016) for details.*
#
# He et al. (2016, "Identity Mappings in Deep Residual Networks") moved BatchNorm and ReLU in
# front of each convolution; nothing follows the addition any more, in particular no ReLU:

# %%
print(inspect.getsource(PreActResidual.forward))

# %% [markdown]
# The paper's point concerns many blocks at once. With nothing after the addition, block $i$
# computes $\mathbf{x}_{i+1} = \mathbf{x}_i + F(\mathbf{x}_i)$ exactly, so for any block $l$
# and any later $L$
#
# $$\mathbf{x}_L = \mathbf{x}_l + \sum_{i=l}^{L-1} F(\mathbf{x}_i), \qquad
# \frac{\partial \ell}{\partial \mathbf{x}_l} = \frac{\partial \ell}{\partial \mathbf{x}_L}
# \Big(1 + \frac{\partial}{\partial \mathbf{x}_l} \sum_{i=l}^{L-1} F(\mathbf{x}_i)\Big).$$
#
# The first term of the gradient reaches block $l$ unchanged however deep the stack. With a
# ReLU after each addition the shortcut path is no identity: each ReLU zeroes the gradient
# wherever its sum was negative, and the zeros accumulate block after block.
#
# To see the first term alone, take blocks whose branches pass no gradient: weights zero
# (`zero_init_`), but the branch's last bias a signed random value per channel. Each block then
# adds a constant, and whatever gradient reaches the input came along the shortcuts. The input
# is non-negative, as after a ReLU, so no clipping comes from its sign. Push a random gradient
# back from the top of 1, 2, 4, ..., 64 blocks:

# %%
def last_layer(blk):
    return blk.conv2 if isinstance(blk, PreActResidual) else blk.bn2  # where the branch ends


def shifted_stack(block_type, depth, channels=16):
    """depth blocks whose branches output a signed constant per channel and pass no gradient."""
    blocks = [block_type(channels, channels).zero_init_() for _ in range(depth)]
    for blk in blocks:
        nn.init.normal_(last_layer(blk).bias, std=0.5)
    return nn.Sequential(*blocks).eval()


torch.manual_seed(0)
depths = (1, 2, 4, 8, 16, 32, 64)
X = torch.rand(4, 16, 8, 8, requires_grad=True)
V = torch.randn_like(X)  # the gradient arriving from above
intact = {}
fig, ax = plt.subplots(figsize=(5.5, 3.2))
for block_type, key in ((PreActResidual, "preact_stack"), (Residual, "postact_stack")):
    stack, outputs, x = shifted_stack(block_type, depths[-1]), {}, X
    for depth, blk in enumerate(stack, start=1):
        x = outputs[depth] = blk(x)
    intact[block_type] = [(torch.autograd.grad(outputs[d], X, V, retain_graph=True)[0] == V)
                          .float().mean().item() for d in depths]
    shifts = sum(last_layer(blk).bias for blk in stack)[:, None, None]  # the branches' sum
    exact = torch.allclose(outputs[depths[-1]] - X, shifts, atol=1e-4)  # x_L = x_0 + sum F
    assert exact == (block_type is PreActResidual)
    ax.plot(depths, intact[block_type], "o-", label=label(key))
ax.set(xscale="log", ylim=(0, 1.05), xlabel=label("blocks_stacked"),
       ylabel=label("gradient_intact"))
ax.set_xticks(depths, [str(d) for d in depths])
ax.legend(loc="center right")
plt.show()
post = intact[Residual]
print([round(v, 2) for v in post])
assert intact[PreActResidual] == [1.0] * len(depths)  # every entry arrives, at every depth
assert all(a >= b for a, b in zip(post, post[1:])) and post[-1] < post[0] / 2

# %% [markdown]
# Through the pre-activation stack the gradient arrives whole at every depth, and the output
# is exactly the input plus the branches' sum. Through the original blocks the share falls
# with depth: ReLUs deep in the stack clip what the first ones let through. (Real branches
# also pass gradient, the formula's second term; here their zero weights switch it off.)
#
# The builder makes a whole pre-activation network; as its blocks end on a convolution, it
# adds one BatchNorm and ReLU before the pooling, as the paper does. It has ResNet-18's layers
# and, within a fraction of a percent, its parameters and arithmetic:

# %%
pre18, r18_net = resnet(block=PreActResidual), resnet18()
assert count_layers(pre18) == 18
assert isinstance(pre18[-4][0], nn.BatchNorm2d) and isinstance(pre18[-4][1], nn.ReLU)
assert pre18(torch.rand(2, 1, 96, 96)).shape == (2, 10)
assert abs(count_parameters(pre18) / count_parameters(r18_net) - 1) < 0.01
assert abs(count_flops(pre18, (1, 1, 96, 96)) / count_flops(r18_net, (1, 1, 96, 96)) - 1) < 0.01

# %% [markdown]
# **Try it yourself.** Train `resnet(block=PreActResidual)` and `resnet18()` with the training
# notebook's recipe and compare.
#
# ### Exercise 5. Why not grow the function class without bound?
#
# *Why can't we just increase the complexity of functions without bound, even if the function
# classes are nested?*
#
# Nesting guarantees that a bigger class *contains* a function at least as good as the best
# of the smaller one. It does not make that function free to find, cheap to run, or likely to
# generalise:
#
# * **Compute.** Each block adds a fixed cost: every step and prediction grows with depth.
# * **Overfitting.** A bigger class holds more functions that fit the training data but not
#   the test data. The paper's 1202-layer CIFAR-10 network trained as well as the 110-layer one
#   but tested worse (its Table 6: 7.93% against 6.43% error, not run here).
# * **Diminishing returns.** Each step up in size buys less accuracy.
#
# The cost side, for the paper's 6n+2-layer CIFAR networks. Six more layers add one block to
# each of the three stages, so parameters and arithmetic grow on a straight line. Measured up
# to 218 layers, the line predicts the paper's 1202:

# %%
depth_range = (20, 56, 110, 218)
params_by_depth, mflops_by_depth = [], []
for depth in depth_range:
    with torch.device("meta"):  # shapes only: no memory, no initialisation
        net = cifar_resnet(depth_to_n(depth))
    params_by_depth.append(count_parameters(net) / 1e6)
    mflops_by_depth.append(count_flops(net, (1, 1, 28, 28)) / 1e6)  # forward, one 28x28 image


def on_line(values, depth):
    """The straight line through the first and the last measured depth, at depth."""
    slope = (values[-1] - values[0]) / (depth_range[-1] - depth_range[0])
    return values[0] + slope * (depth - depth_range[0])


print([round(p, 2) for p in params_by_depth], round(on_line(params_by_depth, 1202), 2))
print([round(f) for f in mflops_by_depth], round(on_line(mflops_by_depth, 1202)))
for values in (params_by_depth, mflops_by_depth):  # every measured depth is on the line
    assert all(abs(on_line(values, d) / v - 1) < 1e-3 for d, v in zip(depth_range, values))
assert round(on_line(params_by_depth, 1202), 1) == 19.4  # the paper's Table 6: 19.4M
assert on_line(mflops_by_depth, 1202) / mflops_by_depth[0] > 60  # over 60x the 20-layer cost

# %% [markdown]
# The benefit side, from torchvision's published ImageNet top-1 accuracies of the Table 1
# networks: from ResNet-50 on, each step buys fewer points per extra GMAC (ResNet-34 to
# ResNet-50 is the bottleneck's cheap step), and ResNet-152 gains under a point over
# ResNet-101 for half as much arithmetic again.

# %%
names = list(table1_gmacs)  # the five ResNets of Table 1
top1 = {n: by_name[n]["top1"] for n in names}
gmacs = {n: by_name[n]["gmacs_224"] for n in names}
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot([gmacs[n] for n in names], [top1[n] for n in names], "o-")
for n in names:
    ax.annotate(n, (gmacs[n], top1[n]), fontsize=8, xytext=(4, -10), textcoords="offset points")
ax.set(xlabel=label("gmacs_image", size=224), ylabel=label("imagenet_top1"))
ax.margins(x=0.15, y=0.12)  # room for the names
plt.show()
gain_per_gmac = {big: (top1[big] - top1[small]) / (gmacs[big] - gmacs[small])
                 for small, big in zip(names, names[1:])}
print({n: round(v, 2) for n, v in gain_per_gmac.items()})
assert gain_per_gmac["ResNet-50"] > gain_per_gmac["ResNet-101"] > gain_per_gmac["ResNet-152"]
assert top1["ResNet-152"] - top1["ResNet-101"] < 1 and gmacs["ResNet-152"] / gmacs["ResNet-101"] > 1.4

# %% [markdown]
# **Try it yourself.** Time one training step of `cifar_resnet(depth_to_n(d))` for a few
# depths: does the time grow linearly too?
#
# ## Summary
#
# * The ResNet family is one table: ResNet-18 to ResNet-34 changes the blocks per stage,
#   ResNet-50 the block; each member has torchvision's parameters and multiply-adds. GoogLeNet
#   needs six hand-chosen channel numbers per Inception block, and their sums must chain.
# * ResNeXt makes Inception's paths alike and groups them: a grouped convolution costs
#   $\mathcal{O}(c_i c_o / g)$, and the saving buys a twice as wide 3x3 convolution. Our
#   ResNeXt-50 has torchvision's 25,028,904 parameters.
# * The bottleneck costs 15 times less than a basic block of the same width: ResNet-50 has 50
#   layers for about ResNet-34's cost. Its excess over Table 1 is the v1.5 stride.
# * With pre-activation the shortcuts are an identity path through the whole stack: the
#   output is the input plus the branches' sum, and gradient along it arrives whole at any
#   depth, while ReLUs after the additions clip more of it the deeper the stack.
# * A bigger nested class is not free: cost grows linearly with depth, accuracy gains shrink.
