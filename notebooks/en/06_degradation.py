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
# # Going deeper: the degradation problem (退化问题)
#
# *Beyond the notes.* Section 6.1 of the notes argues from function classes: if the larger
# class *contains* the smaller one, making the network bigger cannot move us further from the
# target. For deep networks the notes put it this way: *if we can train the newly-added
# layers into an identity mapping $f(\mathbf{x}) = \mathbf{x}$, the new model will be as
# effective as the original one* (如果我们能将新添加的层训练成恒等映射，新模型和原模型将同样有效).
# A deeper network should then be at least as good as a shallower one, **on the training
# data**.
#
# Plain stacks of layers do not behave that way. He et al. (2015) found that a 56-layer plain
# network has a *higher training error* than a 20-layer one. This is not overfitting (that
# would show on the test set only): the deeper network is harder to optimise. They called it
# the **degradation problem** (退化), and the residual block of 6.2 is their fix.
#
# This notebook trains plain and residual networks of two depths on Fashion-MNIST and
# measures the degradation on your own run, then looks at the gradients of both kinds of
# network at initialisation.

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

# %%
import inspect

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from d2lresnet import count_layers, count_parameters, trace_shapes
from d2lresnet.data import load_fashion_mnist
from d2lresnet.experiments.degradation import (RECIPE, degradation_experiment, load_results,
                                               plot_degradation, run_config)
from d2lresnet.experiments.gradients import conv_grad_norms, plot_grad_norms
from d2lresnet.experiments.twins import CifarBlock, cifar_resnet, depth_to_n
from d2lresnet.presets import default_preset_name

# The run's size follows D2LRESNET_PRESET: smoke (CI, a laptop) half a minute, quick a longer
# run on a CPU, book the saved run below. PRESET = "book" runs the full one here.
PRESET = default_preset_name()
SAVED = "../figures/degradation.json"  # the full run's numbers, made on a GPU

# %% [markdown]
# ## Plain and residual twins
#
# To see the effect of the shortcut and nothing else we need **twins**: two networks with the
# same layers, the same number of parameters and the same initial weights, that differ only
# in whether each block adds its input. The paper's CIFAR-10 networks (its Sec. 4.2) are built
# for exactly this, and fit 28x28 Fashion-MNIST images as they are:
#
# * a 3x3 convolution with 16 channels,
# * three stages of $n$ blocks with 16, 32 and 64 channels; the first block of the second and
#   third stage halves height and width (stride 2),
# * global average pooling and a linear layer.
#
# Each block has two 3x3 convolutions, so there are $6n + 2$ weighted layers: $n = 3$ gives 20
# layers, $n = 9$ gives 56. Each block is built by the notes' `Residual` class, with three
# changes the paper's CIFAR networks make: convolutions without bias (the BatchNorm after each
# one has its own shift), He (Kaiming) initialisation instead of the book's Xavier, and a
# shortcut without parameters where the shape changes (below). The plain twin is the same
# block with the addition left out:

# %%
print(inspect.getsource(CifarBlock.forward))

# %% [markdown]
# Where a stage changes the shape, the notes' block puts a 1x1 convolution on the shortcut.
# That convolution is a **learned projection**: it has weights, and they train like any other
# layer's. The twins would then differ in their parameters, so the paper's CIFAR networks use
# a shortcut without any (its "option A"): keep every other pixel and append zero channels.
# With it, the twins are exact twins:

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

# %% [markdown]
# With the notes' 1x1 projections instead, the 20-layer network gains one 1x1 convolution
# (no bias, as in the paper) at each of the two stage changes, 16→32 and 32→64 channels:
# $16 \cdot 32 + 32 \cdot 64$ weights, and one backward pass gives them a gradient.

# %%
projection_20 = cifar_resnet(n=3, shortcut="projection")
projections = [m for m in projection_20.modules()
               if isinstance(m, CifarBlock) and isinstance(m.shortcut, nn.Conv2d)]
print(count_parameters(projection_20) - count_parameters(residual_20))
assert count_parameters(projection_20) - count_parameters(residual_20) == 16 * 32 + 32 * 64

train_images, train_labels = load_fashion_mnist(train=True)
projection_20(train_images[:8].unsqueeze(1).float() / 255).sum().backward()
assert len(projections) == 2
assert all(p.shortcut.weight.grad.abs().sum() > 0 for p in projections)

# %% [markdown]
# The paper's Table 6 lists the sizes of these networks (0.27M parameters for 20 layers,
# 0.46M, 0.66M and 0.85M for 32, 44 and 56); ours agree, the input having one channel
# instead of three hardly matters:

# %%
paper_table6 = {20: 0.27, 32: 0.46, 44: 0.66, 56: 0.85}  # millions of parameters
for depth, millions in paper_table6.items():
    ours = count_parameters(cifar_resnet(depth_to_n(depth)))
    print(f"{depth}: {ours:,} ({millions}M)")
    assert round(ours / 1e6, 2) == millions

# %% [markdown]
# ## The experiment, on your machine
#
# Degradation is a claim about the **training loss a network can reach**, so a run that stops
# early cannot show it: a deeper network may simply need longer. The experiment therefore
# trains on a small subset, a few hundred to a few thousand images, where the loss can level
# off (a plateau) within the run. Both twins of each depth are trained by the same trainer as
# ResNet-18 in notebook 05 (`d2lresnet.train.train`), keeping the twins' own initialisation,
# with the same recipe on the same images: SGD with momentum 0.9 and a constant learning rate
# of 0.05, so no schedule forces the curves flat. Each curve is one network's mean training
# loss per epoch; every pair of twins is trained with three random seeds (the seed picks the
# subset, the initial weights and the batch order).
#
# The preset chooses the run's size, as it does for training:
#
# * `smoke` (for CI and laptops): 8 and 20 layers, 192 images, 6 epochs: too short for a
#   plateau, but long enough to see the deeper plain net fall behind;
# * `quick`: 20 and 56 layers, 1,000 images, 30 epochs;
# * `book`: the saved run shown below: 20 and 56 layers, 2,000 images, 80 epochs. Set
#   `PRESET = "book"` in the cell above, or start Jupyter with `D2LRESNET_PRESET=book`; from a
#   terminal: `python -m d2lresnet degradation --preset book`. On a CPU it takes hours.

# %%
train_images, train_labels = load_fashion_mnist(train=True)
config = run_config(PRESET)
print(PRESET, config, RECIPE)
results = degradation_experiment(train_images, train_labels, **config, log=None)
plot_degradation(results)
plt.show()

# %% [markdown]
# **What to look for.** The left panel is the plain networks, the right the residual ones, in
# the layout of the paper's Fig. 6, with one line per seed. On every seed, the deeper plain
# network's training loss stays above the shallower one's after the first epoch. The cell
# below checks that, and that the deeper residual network ends below its plain twin.
#
# What it does not check: whether the deeper residual network ends below the shallower
# residual one. On a run this short it depends on the seed, so no such claim is made here.

# %%
def losses(results, kind, depth):
    """The training loss per epoch, one row per seed."""
    return np.array([run["loss"] for run in results[kind][depth]])


shallow, deep = config["depths"]
plain_gap = losses(results, "plain", deep) - losses(results, "plain", shallow)
print(f"plain-{deep} minus plain-{shallow}, per seed and epoch:\n{plain_gap.round(2)}")
print(f"last epoch, residual-{deep}: {losses(results, 'residual', deep)[:, -1].round(3)}, "
      f"plain-{deep}: {losses(results, 'plain', deep)[:, -1].round(3)}")
assert (plain_gap[:, 1:] > 0).all()  # the deeper plain net trains worse, every seed, epoch 2 on
assert (losses(results, "residual", deep)[:, -1] < losses(results, "plain", deep)[:, -1]).all()

# %% [markdown]
# ## The saved run
#
# The `book` run, 20 and 56 layers on 2,000 images for 80 epochs, three seeds, was made once
# on a GPU and saved with its numbers. Drawn from them:

# %%
saved = load_results(SAVED)
print(saved["config"])
plot_degradation(saved)
plt.show()


def first_epoch_below(curve, level=1e-3):
    """The first epoch whose training loss is below level (None: never)."""
    below = np.flatnonzero(np.array(curve) < level)
    return int(below[0]) + 1 if len(below) else None


print(f"{'':14}{'seed':>5}{'epoch < 1e-3':>14}{'last loss':>12}{'last error':>12}")
for kind in ("plain", "residual"):
    for depth, runs in sorted(saved[kind].items()):
        for seed, run in zip(saved["config"]["seeds"], runs):
            print(f"{i18n.pad(f'{i18n.tr(kind)}-{depth}', 14)}{seed:>5}"
                  f"{str(first_epoch_below(run['loss'])):>14}{run['loss'][-1]:12.2e}"
                  f"{run['err'][-1]:12.3f}")

# %% [markdown]
# This is the degradation problem, and the residual network's answer to it, on a run long
# enough to tell them from slow training:
#
# * **Plain**: on every seed, plain-56's training loss is above plain-20's at every epoch. By
#   epoch 80, plain-20 classifies every one of its 2,000 training images correctly and its
#   loss has levelled off near $3 \times 10^{-4}$; plain-56 still gets 4 to 10 % of them wrong,
#   with a loss hundreds of times higher, falling only slowly. More layers made the
#   training data *harder to fit*, not easier, although plain-56 contains plain-20 (set the
#   extra layers to the identity) as a special case.
# * **Residual**: both depths fit every training image and level off at 1 to
#   $3 \times 10^{-4}$. The deeper one pays in *time*, not in the loss it reaches: residual-20 gets below $10^{-3}$ after a
#   little over 30 epochs on every seed, residual-56 after about as long on one seed and up to
#   more than twice as long on another (the table's middle column).
# * **What this run does not show**: that the deeper residual net trains *better*, as it does
#   in the paper on CIFAR-10. At the plateau both residual nets have fitted the subset
#   completely; which one ends lower changes from seed to seed. Two thousand images are too
#   few for depth to pay; they are enough to show that, with the shortcut, depth stops
#   hurting.
#
# These statements are checked against the saved numbers by `tests/test_degradation.py`.
# The run took the time printed in its `config` (`seconds`), on the machine named there:
# eight networks at a time on one GPU. A `book` run on a 2-core CPU takes hours.

# %% [markdown]
# **Try it yourself.** Other depths or sizes, e.g. 8 and 32 layers on 512 images for 20 epochs:
# `degradation_experiment(train_images, train_labels,
# **run_config("smoke", depths=(8, 32), train_size=512, epochs=20))`.
#
# ## Gradients at initialisation
#
# Why is the deep plain network hard to train? The first guess is *vanishing gradients*: the
# gradient shrinks on its way back through many layers, so the first layers barely learn. The
# paper already doubts this (its Sec. 4.1): with batch normalization the forward signals keep
# a healthy variance, and the authors checked that the backward gradients have healthy norms
# too.
#
# Let's look. One batch of 64 images, forward and backward, at initialisation; for every
# convolution on the main path we record the norm of its weight gradient, from the input side
# to the output side. The plain and the residual 56-layer twins start from the same weights.

# %%
images, labels = train_images[:64], train_labels[:64]
norms = {}
for kind in ("plain", "residual"):
    torch.manual_seed(0)
    net = cifar_resnet(depth_to_n(56), plain=(kind == "plain"))
    norms[kind] = conv_grad_norms(net, images, labels)

plot_grad_norms({f"{i18n.label(kind)}-56": named for kind, named in norms.items()})
plt.show()


def first_over_last(named_norms):
    """The first conv's gradient norm over the last conv's."""
    return named_norms[0][1] / named_norms[-1][1]


def spread(named_norms):
    """How far apart the layers' gradient norms are: largest over smallest."""
    values = [value for _, value in named_norms]
    return max(values) / min(values)


for kind, named in norms.items():
    print(f"{i18n.pad(i18n.tr(kind), 10)} {first_over_last(named):10.1f} {spread(named):10.1f}")

assert len(norms["plain"]) == len(norms["residual"]) == 55  # 56 layers less the linear one
# Towards the input the plain net's gradients grow by orders of magnitude;
# the residual twin's stay within about one.
assert first_over_last(norms["plain"]) > 500
assert spread(norms["residual"]) < 20
assert spread(norms["plain"]) > 20 * spread(norms["residual"])

# %% [markdown]
# The first number is the first convolution's gradient norm over the last one's, the second
# the largest over the smallest. Nothing vanishes, as the paper says, but the measurement
# does show what is wrong with the plain network: its gradients are **badly scaled across
# depth**. The first layer of the plain net gets a gradient about a thousand times larger
# than the last layer's; no single learning rate suits both ends. With batch normalization in a deep
# plain stack, the gradient grows as it travels back, layer by layer (Yang et al., 2019, "A
# Mean Field Theory of Batch Normalization", prove this explosion at initialisation; Balduzzi
# et al., 2017, "The Shattered Gradients Problem", show that the gradients of deep plain nets
# also lose their structure). The residual twin, with exactly the same weights, has a direct
# path for the gradient through every block, and its layers' gradients stay comparable.
#
# How does it change with depth? The same profile for both kinds at several depths, and the
# first-over-last ratio for each:

# %%
depths = (8, 20, 38, 56)
profiles = {"plain": {}, "residual": {}}
for depth in depths:
    for kind in profiles:
        torch.manual_seed(0)
        net = cifar_resnet(depth_to_n(depth), plain=(kind == "plain"))
        profiles[kind][depth] = conv_grad_norms(net, images[:32], labels[:32])

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
for ax, kind in zip(axes, profiles):
    plot_grad_norms({f"{i18n.label(kind)}-{d}": profiles[kind][d] for d in depths}, ax=ax)
    ax.set_title(i18n.label("networks_title", kind=i18n.label(kind), extra=""))
plt.show()

ratios = {kind: [first_over_last(profiles[kind][d]) for d in depths] for kind in profiles}
for kind, values in ratios.items():
    print(i18n.pad(i18n.tr(kind), 10), " ".join(f"{v:10.1f}" for v in values))
assert ratios["plain"][-1] > 10 * ratios["plain"][0]  # the imbalance grows with depth
assert ratios["plain"][-1] > 10 * ratios["residual"][-1]

# %% [markdown]
# **Try it yourself.** Does the picture change without batch normalization? Replace every
# `nn.BatchNorm2d` by `nn.Identity()` in a copy of the plain net (a loop over
# `net.named_modules()` with `setattr`) and plot its gradient norms beside the others.
#
# ## Summary
#
# * A deeper plain network can train *worse* than a shallower one: the degradation problem.
#   Trained until the loss levels off, plain-56 stays far above plain-20 on every seed, while
#   plain-20 fits every training image: not a run stopped too early, a harder optimisation.
# * Residual twins with the same layers and the same initial weights fit the training data at
#   both depths. Depth costs them time, not the loss they reach; that the deeper residual net
#   ends *lower*, as in the paper, this small run does not show.
# * The twins use the paper's parameter-free shortcut, so that they stay exact twins; the
#   notes' 1x1 convolution on the shortcut is a learned projection with its own weights.
# * At initialisation the deep plain network's gradients do not vanish: they grow towards the
#   input by orders of magnitude, more so the deeper the net. The residual twin's stay within
#   about one order of magnitude across all its layers.

# %% [markdown]
# ## Exercises
#
# Each exercise has an answer cell: replace its `...` with your answer and run it, then run the
# check below it. The check says whether you are right and, when you are not, gives a hint; it
# computes the right answer from your run or the module, so the answer is written nowhere in
# this notebook. Under each check a worked solution is folded away: click the three dots
# (JupyterLab) or *Show code* (Colab) to open it. The copies an instructor hands out
# (`make student`) leave the solutions out.

# %%
from d2lresnet import exercises

# %% [markdown]
# **Exercise 1.** Predict, then check: at the deeper depth of your own run above, which twin
# ends with the higher training loss on most seeds, `"plain"` or `"residual"`? Answer before
# you look at the figure again.

# %%
answer_6_1 = ...  # your answer

# %%
exercises.check("06.1", answer_6_1, results=results)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
# The last epoch's loss of each twin at the deeper depth, one pair per seed.
last = {kind: [run["loss"][-1] for run in results[kind][deep]] for kind in ("plain", "residual")}
print(last)
plain_worse = sum(p > r for p, r in zip(last["plain"], last["residual"]))
answer_6_1 = "plain" if 2 * plain_worse > len(last["plain"]) else "residual"
assert exercises.check("06.1", answer_6_1, results=results)

# %% [markdown]
# **Exercise 2.** How many parameters has the 32-layer residual twin (`cifar_resnet(5)`)?
# Count them by hand from the architecture (the paper's Table 6 says 0.46M), then check.

# %%
answer_6_2 = ...  # your answer

# %%
exercises.check("06.2", answer_6_2)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
# n = 5 blocks per stage; each block: two 3x3 convs without bias and two BatchNorms.
widths, n = (16, 32, 64), 5
convs = 1 * 16 * 3 * 3 + sum(c_in * c_out * 3 * 3 + c_out * c_out * 3 * 3
                             for c_in, c_out in zip((16,) + widths[:-1], widths)) \
    + sum((n - 1) * 2 * c * c * 3 * 3 for c in widths)
batch_norms = 2 * 16 + sum(n * 2 * 2 * c for c in widths)
answer_6_2 = convs + batch_norms + 64 * 10 + 10
assert answer_6_2 == count_parameters(cifar_resnet(depth_to_n(32)))
assert exercises.check("06.2", answer_6_2)
