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
# # Going deeper: why the shortcut matters
#
# Section 6.1 of the notes argues from function classes: if the larger class *contains* the
# smaller one, making the network bigger cannot move us further from the target. For deep
# networks that means: if the new layers can learn the identity $f(\mathbf{x}) = \mathbf{x}$,
# a deeper network is at least as good as a shallower one, **on the training data**.
#
# In practice, plain stacks of layers do not behave that way. He et al. (2015) found that a
# 56-layer plain network has a *higher training error* than a 20-layer one. Not overfitting
# (that would show up on the test set only): the deeper network is simply harder to
# optimise. They called it the **degradation problem**, and the residual block is their fix.
#
# This notebook
#
# 1. reproduces the degradation experiment on Fashion-MNIST with plain and residual twins,
# 2. looks at the gradients of both twins at initialisation,
# 3. tabulates the ResNet family built from one builder, and
# 4. works through the book's exercises for this section.
#
# Everything that this notebook claims is computed by a cell and checked by an `assert`.

# %%
import inspect
import os
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from torch import nn

from d2lresnet import (Bottleneck, PreActResidual, Residual, count_flops, count_layers,
                       count_parameters, resnet, trace_shapes)
from d2lresnet.deeper import (FULL, TINY, CifarBlock, cifar_resnet, conv_grad_norms,
                              degradation_experiment, depth_to_n, family_member, family_table,
                              format_table, load_results, plot_degradation, plot_grad_norms,
                              save_results, torchvision_parameters)

# CI runs the tiny experiment (seconds); D2LRESNET_FULL=1 runs the full one (about 9 minutes on 2 cores).
RUN_FULL = os.environ.get("D2LRESNET_FULL") == "1"
FIGURE = Path("figures/degradation.png")

# %% [markdown]
# ## 1. The degradation problem
#
# ### Plain and residual twins
#
# To see the effect of the shortcut and nothing else we need **twins**: two networks with the
# same layers, the same number of parameters, the same initial weights, that differ only in
# whether each block adds its input. The paper's CIFAR-10 networks (Sec. 4.2) are built for
# exactly this, and fit 28x28 Fashion-MNIST images as they are:
#
# * a 3x3 convolution with 16 channels,
# * three stages of $n$ blocks with 16, 32 and 64 channels; the first block of the second and
#   third stage halves height and width (stride 2),
# * global average pooling and a linear layer.
#
# Each block has two 3x3 convolutions, so there are $6n + 2$ weighted layers: $n = 3$ gives 20
# layers, $n = 9$ gives 56. The residual blocks are the notes' `Residual`; where a stage
# changes the shape, the shortcut keeps every other pixel and appends zero channels (the
# paper's "option A"), which has no parameters. The plain twin is the same block with the
# addition left out:

# %%
print(inspect.getsource(CifarBlock.forward))

# %%
torch.manual_seed(0)
residual_20 = cifar_resnet(n=3)
torch.manual_seed(0)
plain_20 = cifar_resnet(n=3, plain=True)

for row in trace_shapes(residual_20, (1, 1, 28, 28)):
    print(f"{row.name:18s} {str(tuple(row.shape)):18s} {row.parameters:>8,}")

assert count_layers(residual_20) == count_layers(plain_20) == 20
assert count_parameters(residual_20) == count_parameters(plain_20)
assert all(torch.equal(value, plain_20.state_dict()[key])
           for key, value in residual_20.state_dict().items())
print("parameters of each twin:", f"{count_parameters(plain_20):,}")

# %% [markdown]
# Same layers, same parameters, same initial weights: only the additions differ. The paper's
# Table 6 lists the sizes of these networks (0.27M parameters for 20 layers, 0.46M, 0.66M and
# 0.85M for 32, 44 and 56); ours agree, the input having one channel instead of three hardly
# matters:

# %%
paper_table6 = {20: 0.27, 32: 0.46, 44: 0.66, 56: 0.85}  # millions of parameters
for depth, millions in paper_table6.items():
    ours = count_parameters(cifar_resnet(depth_to_n(depth)))
    print(f"{depth} layers: {ours:,} parameters (paper: {millions}M)")
    assert round(ours / 1e6, 2) == millions

# %% [markdown]
# ### The experiment
#
# Both twins of each depth are trained with the same recipe on the same images: SGD with
# momentum 0.9 and weight decay $10^{-4}$, a one-cycle learning rate peaking at 0.1, batches
# of 128, bfloat16 autocast and channels-last memory layout (the fast path on this CPU). The
# training error is counted on the batches as they are trained on, ten points per epoch; the
# test error after each epoch.
#
# The full run (the depths, epochs and training subset in `FULL` below) took 549 s (about
# 9 minutes) on the two CPU cores of our build machine, so by default this notebook runs a tiny version that only shows the
# machinery works. Run the full one with `D2LRESNET_FULL=1`, or from a terminal with
# `python -m d2lresnet.deeper --full --out notebooks/figures/degradation.png`.

# %%
print("full run:", FULL)
print("tiny run:", TINY)

from d2lresnet.data import load_fashion_mnist

train_images, train_labels = load_fashion_mnist(train=True)
test_images, test_labels = load_fashion_mnist(train=False)
assert train_images.dtype == torch.uint8 and train_images.shape[1:] == (28, 28)

config = FULL if RUN_FULL else TINY
results = degradation_experiment(train_images, train_labels, test_images, test_labels,
                                 **config, log=print if RUN_FULL else None)
if RUN_FULL:
    plot_degradation(results, FIGURE)
    save_results(results, FIGURE.with_suffix(".json"))
else:
    plot_degradation(results, title_extra=" (tiny run: machinery only)")
plt.show()

for kind in ("plain", "residual"):
    for depth, history in results[kind].items():
        assert len(history["train_err"]) == len(history["test_err"]) == config["epochs"]
        assert all(0 <= e <= 1 for e in history["train_err"] + history["test_err"])

# %% [markdown]
# The tiny run trains on a few hundred images for a couple of epochs: its curves say nothing
# about depth. The full run's figure is saved beside this notebook with its numbers (`figures/degradation.json`); the next cell shows it and checks the claim
# against the saved numbers.
#
# **What to look for.** In the paper (Fig. 1 and 6), the 56-layer plain network has a higher
# training error than the 20-layer one throughout training, while the 56-layer residual
# network is no worse than its 20-layer sibling. Our runs are far shorter than the paper's, so
# the claim checked here is the robust part: *going from 20 to 56 layers costs the plain
# network much more training error than it costs the residual network.*

# %%
if FIGURE.exists() and FIGURE.with_suffix(".json").exists():
    from IPython.display import Image, display

    display(Image(str(FIGURE)))
    full = load_results(FIGURE.with_suffix(".json"))
    print("configuration:", full["config"])
    shallow, deep = min(full["plain"]), max(full["plain"])
    gaps = {}
    for kind in ("plain", "residual"):
        final = {d: full[kind][d]["train_err"][-1] for d in (shallow, deep)}
        gaps[kind] = final[deep] - final[shallow]
        print(f"{kind:8s} final training error: {shallow} layers {final[shallow]:.3f}, "
              f"{deep} layers {final[deep]:.3f}, going deeper costs {gaps[kind]:+.3f}")
    assert gaps["plain"] > gaps["residual"]
else:
    print(f"No full run saved yet ({FIGURE} and its .json); run the command above to make it.")

# %% [markdown]
# **Try it yourself.** Change the depths or the recipe and rerun, e.g. a plain and a residual
# net of 8 and 32 layers on 3,000 images (a minute or two on a laptop):

# %%
# mine = degradation_experiment(train_images, train_labels, test_images, test_labels,
#                               depths=(8, 32), epochs=3, train_size=3000, test_size=1000)
# plot_degradation(mine); plt.show()

# %% [markdown]
# ## 2. Gradients at initialisation
#
# Why is the deep plain network hard to train? The first guess is *vanishing gradients*: the
# gradient shrinks on its way back through many layers, so the first layers barely learn. The
# paper already doubts this (Sec. 4.1): with BatchNorm, the forward signals keep a healthy
# variance, and the authors checked that the backward gradients have healthy norms too.
#
# Let's look. One batch of 64 images, forward and backward, at initialisation; for every
# convolution on the main path (the parameter-free shortcuts have none) we record the norm of
# its weight gradient, from the input side to the output side. The plain and the residual
# 56-layer twins start from the same weights.

# %%
images, labels = train_images[:64], train_labels[:64]
norms = {}
for kind in ("plain", "residual"):
    torch.manual_seed(0)
    net = cifar_resnet(depth_to_n(56), plain=(kind == "plain"))
    norms[f"{kind}-56"] = conv_grad_norms(net, images, labels)

plot_grad_norms(norms)
plt.show()


def first_over_last(named_norms):
    """The first conv's gradient norm over the last conv's."""
    return named_norms[0][1] / named_norms[-1][1]


def spread(named_norms):
    """How far apart the layers' gradient norms are: largest over smallest."""
    values = [v for _, v in named_norms]
    return max(values) / min(values)


for label, named in norms.items():
    print(f"{label:12s} first/last {first_over_last(named):10.1f}   "
          f"largest/smallest {spread(named):10.1f}")

assert len(norms["plain-56"]) == len(norms["residual-56"]) == 55
# The plain net's gradients do not vanish towards the input: they *grow*, by orders of
# magnitude, while the residual twin's stay within about one order of magnitude.
assert first_over_last(norms["plain-56"]) > 100
assert first_over_last(norms["residual-56"]) < 30
assert spread(norms["plain-56"]) > 20 * spread(norms["residual-56"])

# %% [markdown]
# The measurement agrees with the paper that nothing vanishes, but it does show what is wrong
# with the plain network: its gradients are **badly scaled across depth**. Measured against
# the last layers, the first layers of the plain net get gradients hundreds of times larger;
# no single learning rate suits both ends. With BatchNorm in a deep plain stack, the gradient
# grows as it travels back, layer by layer (Yang et al., 2019, "A Mean Field Theory of Batch
# Normalization", prove this explosion at initialisation; Balduzzi et al., 2017, "The Shattered
# Gradients Problem", show the gradients of deep plain nets also lose their structure). The
# residual twin, with exactly the same weights, has a direct path for the gradient through
# every block, and its layers' gradients stay comparable.
#
# How does it change with depth? The same ratio for both twins at several depths:

# %%
ratios = {"plain": [], "residual": []}
depths = (8, 20, 38, 56)
for depth in depths:
    for kind in ratios:
        torch.manual_seed(0)
        net = cifar_resnet(depth_to_n(depth), plain=(kind == "plain"))
        ratios[kind].append(first_over_last(conv_grad_norms(net, images[:32], labels[:32])))

fig, ax = plt.subplots(figsize=(5, 3.2))
for kind, values in ratios.items():
    ax.semilogy(depths, values, "o-", label=kind)
ax.set(xlabel="layers (6n+2)", ylabel="first / last conv gradient norm")
ax.legend()
ax.grid(alpha=0.3, which="both")
plt.show()
print({k: [round(v, 1) for v in vs] for k, vs in ratios.items()})
assert ratios["plain"][-1] > 10 * ratios["plain"][0]  # the plain net's imbalance grows with depth
assert ratios["plain"][-1] > 10 * ratios["residual"][-1]

# %% [markdown]
# **Try it yourself.** Does the picture change without BatchNorm? Replace every
# `nn.BatchNorm2d` by `nn.Identity()` in a copy of the plain net (e.g. with a loop over
# `net.named_modules()` and `setattr`) and plot its gradient norms beside the others.

# %%
# import copy
# no_bn = copy.deepcopy(...)

# %% [markdown]
# ## 3. The ResNet family from one builder
#
# The notes build ResNet-18. The same builder, with other stage depths and blocks, gives the
# rest of the family: ResNet-34 (3, 4, 6, 3 basic blocks), ResNet-50 (the same stages of
# bottleneck blocks, Sec. 4 below) and the pre-activation ResNet-18 (Sec. 4 below). The table
# lists the parameters as the notes build them (1 input channel, 10 classes), the parameters
# in torchvision's configuration (3 channels, 1000 classes, no conv bias, BatchNorm on the
# projection shortcut) beside torchvision's own count, and the forward GFLOPs for one image at
# the notes' training size (96x96) and ImageNet's (224x224), counted by
# `torch.utils.flop_counter` (a multiply-add counts as 2 FLOPs).

# %%
rows = family_table()
print(format_table(rows))

for row in rows:
    if row["params_torchvision"] is not None:
        assert row["params_tv_config"] == row["params_torchvision"]
assert rows[0]["params"] == 11_178_378  # the notes' ResNet-18
assert rows[-1]["params_torchvision"] is None  # torchvision has no pre-activation ResNet
# Every layer's output area grows by (224/96)^2 (only the final Linear layer does not):
for row in rows:
    assert abs(row["gflops_224"] / row["gflops_96"] / (224 / 96) ** 2 - 1) < 1e-3

# %% [markdown]
# A few things to read off the table: ResNet-34 has about twice the parameters and FLOPs of
# ResNet-18; ResNet-50 is deeper still but costs only a little more than ResNet-34, thanks to
# the bottleneck; and the pre-activation variant costs the same as the original. Checked:

# %%
by_name = {row["model"]: row for row in rows}
r18, r34, r50, pre18 = (by_name[m] for m in
                        ("ResNet-18", "ResNet-34", "ResNet-50", "PreAct-ResNet-18"))
assert 1.8 < r34["params"] / r18["params"] < 2.1 and 1.8 < r34["gflops_96"] / r18["gflops_96"] < 2.1
assert r50["gflops_96"] / r34["gflops_96"] < 1.2
assert abs(pre18["gflops_96"] / r18["gflops_96"] - 1) < 0.01
assert abs(pre18["params"] / r18["params"] - 1) < 0.01

# %% [markdown]
# ## 4. Exercises
#
# ### Exercise 1. Inception block vs residual block
#
# *What are the major differences between the Inception block and the residual block? After
# removing some paths in the Inception block, how are they related to each other?*
#
# Here is the book's Inception block (GoogLeNet, section 7.4), four parallel paths:

# %%
from torch.nn import functional as F


class Inception(nn.Module):
    # c1--c4 are the output channels of the four paths
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


inception = Inception(192, 64, (96, 128), (16, 32), 32)  # GoogLeNet's first Inception block
residual = Residual(192, 192)
X = torch.randn(2, 192, 28, 28)
print("Inception:", inception(X).shape, f"{count_parameters(inception):,} parameters")
print("Residual: ", residual(X).shape, f"{count_parameters(residual):,} parameters")
assert inception(X).shape[1] == 64 + 128 + 32 + 32 == 256  # channels: the sum of the paths
assert residual(X).shape == X.shape  # same shape in and out, so the input can be added

# %% [markdown]
# The differences:
#
# * **How paths merge.** Inception *concatenates* its paths along channels, so the output
#   channels are the sum of the paths'. A residual block *adds* its branch to the input, so
#   input and output must have the same shape.
# * **What the paths are.** Inception runs 1x1, 3x3, 5x5 convolutions and a max-pool side by
#   side (width: several receptive fields at once). The residual block has a single path of
#   two 3x3 convolutions (depth) and a second path that is *the input itself*.
# * **No identity path in Inception.** Every Inception path transforms its input; even the
#   pooling path ends in a 1x1 conv. To pass the input through unchanged it has to *learn* the
#   identity. A residual block gets the identity for free when its branch outputs zero:

# %%
with torch.no_grad():
    for p in inception.parameters():
        p.zero_()
residual.zero_init_().eval()
X = torch.rand(2, 192, 28, 28)  # non-negative, like the output of a ReLU
assert torch.count_nonzero(inception(X)) == 0  # weights at zero: the input is lost
assert torch.equal(residual(X), X)  # branch at zero: the input passes through
print("zeroed Inception outputs zeros; zero-initialised residual block outputs its input")

# %% [markdown]
# *After removing paths.* Keep only one Inception path, say 1x1 then 3x3, make it output as
# many channels as it takes in, and turn the concatenation with a "path" that is the input
# into an addition: that is a residual block with a 1x1-3x3 branch, close to the bottleneck
# block of Exercise 3. Conversely, a residual block is a two-path Inception-like block (the
# branch and the identity) merged by addition. Szegedy et al. (2017) combined the two ideas in
# Inception-ResNet: Inception blocks whose concatenated output (after a 1x1 conv) is added
# to the input.

# %%
class OnePathResidual(nn.Module):
    """Inception's second path (1x1 then 3x3), merged with the input by addition."""

    def __init__(self, channels, hidden):
        super().__init__()
        self.p2_1 = nn.Conv2d(channels, hidden, kernel_size=1)
        self.p2_2 = nn.Conv2d(hidden, channels, kernel_size=3, padding=1)

    def forward(self, x):
        return x + self.p2_2(F.relu(self.p2_1(x)))


block = OnePathResidual(192, 96)
nn.init.zeros_(block.p2_2.weight)
nn.init.zeros_(block.p2_2.bias)
X = torch.randn(2, 192, 28, 28)
assert torch.equal(block(X), X)  # with the branch zeroed it is the identity, like Residual
print(f"one-path residual: {count_parameters(block):,} parameters")

# %% [markdown]
# **Try it yourself.** Count the FLOPs of `Inception(192, 64, (96, 128), (16, 32), 32)` and of
# `Residual(192, 256, use_1x1conv=True)` on a 28x28 input with `count_flops`; which path of
# the Inception block costs the most?

# %%
# count_flops(nn.Sequential(Inception(192, 64, (96, 128), (16, 32), 32)), (1, 192, 28, 28))

# %% [markdown]
# ### Exercise 2. The variants of the paper's Table 1
#
# *Refer to Table 1 in the ResNet paper to implement different variants of the network.*
#
# Table 1 lists five networks: 18 and 34 layers of basic blocks, 50, 101 and 152 of bottleneck
# blocks, all with the same four stages of 64, 128, 256 and 512 (times 4 for bottlenecks)
# channels; only the number of blocks per stage changes. Our builder takes exactly that:

# %%
from d2lresnet.deeper import FAMILY

for name in ("ResNet-18", "ResNet-34", "ResNet-50", "ResNet-101", "ResNet-152"):
    depths, block = FAMILY[name]
    print(f"{name:11s} blocks per stage {depths}, {block.__name__}")

# %% [markdown]
# Build each in torchvision's configuration (so the counts are comparable with ImageNet
# models), count layers the notes' way (convs and the linear layer, shortcut 1x1 convs left
# out), parameters, and multiply-adds at 224x224; compare with torchvision's published model
# metadata and with Table 1's FLOPs row (the paper's "FLOPs" are multiply-adds).

# %%
import torchvision.models as tvm

tv_weights = {"ResNet-18": tvm.ResNet18_Weights, "ResNet-34": tvm.ResNet34_Weights,
              "ResNet-50": tvm.ResNet50_Weights, "ResNet-101": tvm.ResNet101_Weights,
              "ResNet-152": tvm.ResNet152_Weights}
table1_gmacs = {"ResNet-18": 1.8, "ResNet-34": 3.6, "ResNet-50": 3.8, "ResNet-101": 7.6,
                "ResNet-152": 11.3}  # He et al. 2015, Table 1, "FLOPs" (x 10^9)

variants = {}
print(f"{'model':11s} {'layers':>6s} {'parameters':>12s} {'torchvision':>12s} "
      f"{'GMACs':>6s} {'tv GMACs':>8s} {'Table 1':>7s}")
for name, weights in tv_weights.items():
    net = family_member(name, in_channels=3, num_classes=1000, torchvision_compat=True)
    meta = weights.IMAGENET1K_V1.meta
    gmacs = count_flops(net, (1, 3, 224, 224)) / 2e9
    variants[name] = dict(layers=count_layers(net), params=count_parameters(net), gmacs=gmacs,
                          tv_params=meta["num_params"], tv_gmacs=meta["_ops"],
                          table1=table1_gmacs[name])
    v = variants[name]
    print(f"{name:11s} {v['layers']:6d} {v['params']:12,} {v['tv_params']:12,} "
          f"{gmacs:6.2f} {v['tv_gmacs']:8.2f} {v['table1']:7.1f}")

for name, v in variants.items():
    assert v["layers"] == int(name.split("-")[1])  # 18, 34, 50, 101, 152
    assert v["params"] == v["tv_params"]
    assert abs(v["gmacs"] / v["tv_gmacs"] - 1) < 0.01

# %% [markdown]
# Layers and parameters match exactly, multiply-adds match torchvision's. Against Table 1, the
# basic-block networks agree, but ResNet-50 comes out well above the paper's 3.8:

# %%
for name, v in variants.items():
    print(f"{name:11s} ours / Table 1: {v['gmacs'] / v['table1']:.3f}")
assert 0.05 < variants["ResNet-50"]["gmacs"] / table1_gmacs["ResNet-50"] - 1 < 0.1

# %% [markdown]
# The
# reason is where the stride sits. In the paper, the stride-2 bottleneck halves the resolution
# in its first 1x1 convolution; torchvision (and our `Bottleneck`) move the stride to the 3x3
# convolution ("ResNet v1.5", slightly more accurate), so the first 1x1 conv of each
# downsampling block runs at four times the area. Moving the stride back gives the paper's
# number:

# %%
def stride_in_first_1x1(net):
    """The paper's original bottleneck: stride 2 in conv1 (1x1) instead of conv2 (3x3)."""
    for module in net.modules():
        if isinstance(module, Bottleneck) and module.conv2.stride == (2, 2):
            module.conv1.stride, module.conv2.stride = (2, 2), (1, 1)
    return net


for name in ("ResNet-50", "ResNet-101", "ResNet-152"):
    v1 = stride_in_first_1x1(family_member(name, in_channels=3, num_classes=1000,
                                           torchvision_compat=True))
    gmacs_v1 = count_flops(v1, (1, 3, 224, 224)) / 2e9
    print(f"{name}: v1.5 {variants[name]['gmacs']:.2f}, paper's v1 {gmacs_v1:.2f}, "
          f"Table 1 {table1_gmacs[name]}")
    assert abs(gmacs_v1 / table1_gmacs[name] - 1) < 0.025  # Table 1 rounds to 0.1
    assert abs(variants[name]["gmacs"] / table1_gmacs[name] - 1) > \
        abs(gmacs_v1 / table1_gmacs[name] - 1)
for name in ("ResNet-18", "ResNet-34"):
    assert abs(variants[name]["gmacs"] / table1_gmacs[name] - 1) < 0.025

# %% [markdown]
# **Try it yourself.** Table 1's networks differ only in blocks per stage. Build a
# "ResNet-26" of basic blocks with `resnet((3, 3, 3, 3), block=Residual)`: how many layers
# does `count_layers` find, and where does it sit between ResNet-18 and ResNet-34 in
# parameters?

# %%
# net26 = resnet((3, 3, 3, 3), block=Residual)
# count_layers(net26), count_parameters(net26)

# %% [markdown]
# ### Exercise 3. The bottleneck, for deeper networks
#
# *For deeper networks, ResNet introduces a "bottleneck" architecture to reduce model
# complexity. Try to implement it.*
#
# The bottleneck block replaces the two 3x3 convolutions by 1x1 (reduce the channels by 4),
# 3x3 (on the reduced channels), 1x1 (expand back). It is `Bottleneck` in `d2lresnet.blocks`:

# %%
print(inspect.getsource(Bottleneck.__init__))

# %% [markdown]
# At the same width, 256 channels in and out (what ResNet-50's first stage carries between
# its blocks), compare it with a basic block of 256 channels:

# %%
basic = Residual(256, 256)
bottleneck = Bottleneck(256, 64)  # 256 -> 64 -> 64 -> 256
X_shape = (1, 256, 14, 14)
cost = {}
for label, blk in (("basic 256", basic), ("bottleneck 256 (64 inside)", bottleneck)):
    cost[label] = (count_parameters(blk), count_flops(nn.Sequential(blk), X_shape) / 1e6)
    print(f"{label:27s} {cost[label][0]:>10,} parameters {cost[label][1]:8.1f} MFLOPs")
ratio = cost["basic 256"][0] / cost["bottleneck 256 (64 inside)"][0]
print(f"the basic block has {ratio:.1f}x the parameters")
assert bottleneck(torch.rand(X_shape)).shape == basic(torch.rand(X_shape)).shape
assert ratio > 15
assert cost["basic 256"][1] / cost["bottleneck 256 (64 inside)"][1] > 15

# %% [markdown]
# So for the same number of channels, the bottleneck costs over 15 times less. The paper uses
# that saving to go deeper at a constant budget: a bottleneck on 256 channels costs about the
# same as a basic block on 64 channels, with three layers instead of two and a four times
# wider output. That is how ResNet-50 has 50 layers for roughly the FLOPs of ResNet-34:

# %%
small_basic = Residual(64, 64)
p_small, f_small = count_parameters(small_basic), count_flops(nn.Sequential(small_basic),
                                                              (1, 64, 56, 56))
p_bneck, f_bneck = count_parameters(Bottleneck(256, 64)), count_flops(
    nn.Sequential(Bottleneck(256, 64)), (1, 256, 56, 56))
print(f"basic 64:        {p_small:,} parameters, {f_small / 1e6:.0f} MFLOPs at 56x56")
print(f"bottleneck 256:  {p_bneck:,} parameters, {f_bneck / 1e6:.0f} MFLOPs at 56x56")
assert abs(p_bneck / p_small - 1) < 0.1 and abs(f_bneck / f_small - 1) < 0.1
print(f"ResNet-34: {variants['ResNet-34']['layers']} layers, "
      f"{variants['ResNet-34']['gmacs']:.2f} GMACs; ResNet-50: "
      f"{variants['ResNet-50']['layers']} layers, {variants['ResNet-50']['gmacs']:.2f} GMACs")
assert variants["ResNet-50"]["gmacs"] / variants["ResNet-34"]["gmacs"] < 1.15

# %% [markdown]
# **Try it yourself.** Build a ResNet with bottleneck blocks but the *basic* block's output
# widths, i.e. `Bottleneck` with `expansion = 1` (subclass it), and compare its parameters
# and FLOPs with ResNet-18/34. What does the fourfold expansion buy?

# %%
# class NarrowBottleneck(Bottleneck):
#     expansion = 1
# net = resnet((3, 4, 6, 3), block=NarrowBottleneck)

# %% [markdown]
# ### Exercise 4. The pre-activation block ("Identity Mappings")
#
# *In subsequent versions of ResNet, the authors changed the "convolution, batch
# normalization, and activation" structure to the "batch normalization, activation, and
# convolution" structure. Make this improvement yourself.*
#
# He et al. (2016, "Identity Mappings in Deep Residual Networks") moved BatchNorm and ReLU in
# front of each convolution. Nothing follows the addition any more, in particular no ReLU:

# %%
print(inspect.getsource(PreActResidual.forward))

# %% [markdown]
# Why it matters: with nothing after the addition, block $l$ computes
# $\mathbf{x}_{l+1} = \mathbf{x}_l + g_l(\mathbf{x}_l)$ exactly, so any later block sees
# $\mathbf{x}_L = \mathbf{x}_l + \sum_{i=l}^{L-1} g_i(\mathbf{x}_i)$ and the gradient
# $\partial \mathbf{x}_L / \partial \mathbf{x}_l$ contains the identity itself. The original
# block applies a ReLU after the addition, so even with its branch at zero it computes
# $\mathrm{relu}(\mathbf{x})$, not $\mathbf{x}$. Check both with their branches zeroed, on an
# input with negative values:

# %%
X = torch.randn(2, 16, 8, 8)
pre = PreActResidual(16, 16).zero_init_()
post = Residual(16, 16).zero_init_().eval()
assert torch.equal(pre(X), X)  # exactly the identity
assert torch.equal(post(X), torch.relu(X)) and not torch.equal(post(X), X)
print("negative inputs: pre-activation keeps them, the original block clips them")

# %% [markdown]
# Stack 30 of each, zero-initialised, and push a gradient back through the stack. Through the
# pre-activation stack it arrives unchanged; through the original one the ReLUs zero it
# wherever the input was negative:

# %%
pre_stack = nn.Sequential(*[PreActResidual(16, 16).zero_init_() for _ in range(30)])
post_stack = nn.Sequential(*[Residual(16, 16).zero_init_() for _ in range(30)]).eval()
V = torch.randn(2, 16, 8, 8)  # the gradient arriving from above
grads = {}
for label, stack in (("pre-activation", pre_stack), ("original", post_stack)):
    X = torch.randn(2, 16, 8, 8, requires_grad=True)
    (stack(X) * V).sum().backward()
    grads[label] = X.grad
    print(f"{label:15s} fraction of the gradient that arrives intact: "
          f"{(X.grad == V).float().mean():.2f}")
assert torch.equal(grads["pre-activation"], V)
assert (grads["original"] == 0).float().mean() > 0.4  # about half the inputs were negative

# %% [markdown]
# The builder makes a whole pre-activation network; since its blocks end on a convolution, it
# adds one BatchNorm-ReLU before the pooling (as in the paper). It has the same layers as
# ResNet-18 and, from the table in section 3, the same FLOPs:

# %%
pre18 = resnet(block=PreActResidual)
print(pre18[-4:])
assert count_layers(pre18) == 18
assert isinstance(pre18[-4][0], nn.BatchNorm2d) and isinstance(pre18[-4][1], nn.ReLU)
assert pre18(torch.rand(2, 1, 96, 96)).shape == (2, 10)

# %% [markdown]
# **Try it yourself.** Train `resnet(block=PreActResidual)` and `resnet18()` with the recipe
# of the training notebook and compare; or add a `plain` option for pre-activation blocks to
# the 6n+2 network and repeat the gradient plot of section 2.

# %%
# pre_net = resnet(block=PreActResidual, zero_init_residual=True)

# %% [markdown]
# ### Exercise 5. Why not grow the function class without bound?
#
# *Why can't we just increase the complexity of functions without bound, even if the function
# classes are nested?*
#
# Nesting guarantees that a bigger class *contains* a function at least as good as the best
# of the smaller one. It does not make that function free to find, cheap to run, or likely to
# generalise:
#
# * **Compute.** Each block adds a fixed cost, so the cost of every training step and every
#   prediction grows linearly with depth (computed below).
# * **Overfitting.** The optimiser finds the function that fits the *training* data; a bigger
#   class has more functions that fit the training data but not the test data. The paper's
#   1202-layer CIFAR-10 network reached a training error similar to the 110-layer one but a
#   worse test error (Table 6, quoted in the next cell), which the authors attribute to
#   overfitting on a small dataset.
# * **Diminishing returns.** Each step up in size buys less accuracy (computed below).

# %%
paper_table6_test_error = {110: 6.43, 1202: 7.93}  # % on CIFAR-10, He et al. 2015, Table 6
print(f"CIFAR-10 test error: 110 layers {paper_table6_test_error[110]}%, "
      f"1202 layers {paper_table6_test_error[1202]}% (quoted from the paper, not run here)")
assert paper_table6_test_error[1202] > paper_table6_test_error[110]

# %% [markdown]
# The cost side, computed for our 6n+2 networks up to the paper's 1202 layers:

# %%
depth_range = (20, 56, 110, 218, 1202)
params_by_depth, mflops_by_depth = [], []
for depth in depth_range:
    net = cifar_resnet(depth_to_n(depth))
    params_by_depth.append(count_parameters(net) / 1e6)
    mflops_by_depth.append(count_flops(net, (1, 1, 28, 28)) / 1e6)  # forward, one image

fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
axes[0].plot(depth_range, params_by_depth, "o-")
axes[0].set(xlabel="layers", ylabel="parameters (millions)")
axes[1].plot(depth_range, mflops_by_depth, "o-", color="C1")
axes[1].set(xlabel="layers", ylabel="forward MFLOPs per 28x28 image")
for ax in axes:
    ax.grid(alpha=0.3)
plt.show()

for depth, p, f in zip(depth_range, params_by_depth, mflops_by_depth):
    print(f"{depth:5d} layers: {p:6.2f}M parameters, {f:8.0f} forward MFLOPs per image")
# Every extra layer costs the same (each stage halves the area and doubles the channels, so
# a 3x3 conv costs the same in all three): the cost is exactly linear in depth.
per_extra_layer = [(f2 - f1) / (d2 - d1) for d1, d2, f1, f2 in
                   zip(depth_range, depth_range[1:], mflops_by_depth, mflops_by_depth[1:])]
print("MFLOPs per extra layer:", [round(v, 3) for v in per_extra_layer])
assert max(per_extra_layer) / min(per_extra_layer) < 1.001
assert mflops_by_depth[-1] / mflops_by_depth[0] > 60  # 1202 layers: over 60x the 20-layer cost
assert round(params_by_depth[-1], 1) == 19.4  # the paper's Table 6: 19.4M for 1202 layers

# %% [markdown]
# The benefit side, from torchvision's published ImageNet top-1 accuracies of the Table 1
# networks (its model metadata, no download): accuracy per extra GMAC falls as the networks
# grow (from ResNet-50 on; ResNet-34 to ResNet-50 is the bottleneck's cheap step).

# %%
names = list(variants)
top1 = {name: tv_weights[name].IMAGENET1K_V1.meta["_metrics"]["ImageNet-1K"]["acc@1"]
        for name in names}
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot([variants[n]["gmacs"] for n in names], [top1[n] for n in names], "o-")
for n in names:
    ax.annotate(n, (variants[n]["gmacs"], top1[n]), fontsize=8, xytext=(4, -10),
                textcoords="offset points")
ax.set(xlabel="GMACs per 224x224 image", ylabel="ImageNet top-1 (%)")
ax.grid(alpha=0.3)
plt.show()

gain_per_gmac = {}
for small, big in zip(names, names[1:]):
    gain_per_gmac[big] = (top1[big] - top1[small]) / (variants[big]["gmacs"]
                                                      - variants[small]["gmacs"])
    print(f"{small} -> {big}: {top1[big] - top1[small]:+.2f} points top-1 for "
          f"{variants[big]['gmacs'] - variants[small]['gmacs']:+.2f} GMACs "
          f"({gain_per_gmac[big]:.2f} points per GMAC)")
assert gain_per_gmac["ResNet-101"] > gain_per_gmac["ResNet-152"]
assert gain_per_gmac["ResNet-50"] > gain_per_gmac["ResNet-101"]
assert top1["ResNet-152"] - top1["ResNet-101"] < 1  # 50% more compute, under a point

# %% [markdown]
# **Try it yourself.** Measure rather than count: time one training step of
# `cifar_resnet(depth_to_n(d))` on a batch of 64 for a few depths and check that the time
# grows linearly too. Count the activations that backpropagation keeps, with
# `trace_leaves(net, (1, 1, 28, 28))` from `d2lresnet` (sum the output sizes), for a few
# depths. Or take the full degradation run, replace the depths by (20, 110) and see whether
# the residual network still gains from depth within 15 minutes.

# %%
# import time
# for d in (20, 56, 110):
#     net = cifar_resnet(depth_to_n(d)); X = torch.rand(64, 1, 28, 28)
#     t = time.perf_counter(); net(X).sum().backward(); print(d, time.perf_counter() - t)
