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
# *Beyond the notes.* You will see a 56-layer plain network fit its training images worse
# than a 20-layer one, and a residual network of the same depth that does not, on a saved
# run, then on your own; then the gradients of both at initialisation. Run All takes
# about 12 minutes (timed from its first steps) under the default preset on a 2-core CPU,
# nearly all in one cell a class can skip.

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

# %% [markdown]
# Section 6.1 of the notes argues from function classes: *if we can train the newly-added
# layers into an identity mapping $f(\mathbf{x}) = \mathbf{x}$, the new model will be as
# effective as the original one* (如果我们能将新添加的层训练成恒等映射，新模型和原模型将同样有效).
# A deeper network should then fit its **training data** at least as well as a shallower one.
#
# He et al. (2015) found that plain stacks of layers do not: their 56-layer plain network had
# a *higher training error* than their 20-layer one. Not overfitting, which would show on the
# test set only: the deeper network is harder to optimise. They called this the
# **degradation problem** (退化); the residual block of 6.2 is their fix.
#
# **Exercise 1 (predict first).** Of the plain and residual networks of the greater depth in
# your run below, which ends with the higher training loss on most seeds? Answer with the
# string `"plain"` or `"residual"` before you see any result; you check it after your run.

# %%
answer_6_1 = ...  # your answer · 你的答案: "plain" or "residual"

# %%
import inspect

import matplotlib.pyplot as plt
import numpy as np
import torch

from d2lresnet import count_parameters, exercises
from d2lresnet.data import load_fashion_mnist
from d2lresnet.experiments.degradation import (degradation_experiment, load_results,
                                               plot_degradation, print_summary, run_config)
from d2lresnet.experiments.gradients import conv_grad_norms, plot_grad_norms
from d2lresnet.experiments.twins import CifarBlock, cifar_resnet, depth_to_n, estimate_twins
from d2lresnet.presets import default_preset_name

PRESET = default_preset_name()  # D2LRESNET_PRESET, or set it here: "smoke", "quick", "book"
SAVED = "../figures/degradation.json"  # the full run below, made once on a GPU

# %% [markdown]
# ## A saved run
#
# Plain and residual networks of 20 and 56 layers, built as twins (next section), each
# trained on 2,000 Fashion-MNIST images for 80 epochs, three seeds, all with SGD (momentum
# 0.9) at a constant learning rate of 0.05, so no schedule forces the curves flat. Each curve
# is one network's mean training loss per epoch:

# %%
saved = load_results(SAVED)
plot_degradation(saved, title_extra=i18n.label("saved_run_note"))
plt.show()
print_summary(saved)

plain_loss = {depth: np.array([run["loss"] for run in runs])  # one row per seed
              for depth, runs in saved["plain"].items()}
assert (plain_loss[56] > plain_loss[20]).all()  # degradation: every seed, every epoch
assert all(run["err"][-1] == 0 for depth in (20, 56) for run in saved["residual"][depth])

# %% [markdown]
# The table, per network over the seeds: the first epoch with a loss below $10^{-3}$, the
# last epoch's loss and share of misclassified images, and the mean loss of the last ten
# epochs over the ten before.
#
# * **Plain.** Plain-56's loss is above plain-20's on every seed at every epoch. Plain-20
#   gets all 2,000 images right; plain-56 still gets 4 to 10 % wrong, at a loss hundreds of
#   times higher. More layers made the training data *harder to fit*.
# * **Residual.** Both depths get every image right, ending between $8.6 \times 10^{-5}$ and
#   $2.6 \times 10^{-4}$. Depth costs them time: residual-56 takes from about as long as
#   residual-20 to more than twice as long to get below $10^{-3}$.
# * **Not flat.** Every loss still falls, by a tenth to a third over the last ten epochs
#   (one residual-56 tenfold). So the run does not show that plain-56 could never fit the
#   data, only that it is far behind when the other three have fitted every image.
# * **Not shown**: the deeper residual network ending *lower*, as in the paper on CIFAR-10;
#   which one does changes with the seed.
#
# ## Plain and residual twins
#
# To see the shortcut's effect and nothing else, the networks are **twins**: the same layers
# and initial weights. They are the paper's CIFAR-10 networks (its Sec. 4.2): between a 3×3
# convolution and a linear layer, three stages of $n$ blocks with 16, 32 and 64 channels,
# $6n + 2$ layers in all (20 for $n = 3$, 56 for $n = 9$). Each block is the notes'
# `Residual` with the paper's changes: convolutions without bias, He initialisation, and
# where the shape changes a shortcut without parameters. The plain twin leaves out the
# addition:

# %%
print(inspect.getsource(CifarBlock.forward))

torch.manual_seed(0)
residual_20 = cifar_resnet(n=3)
torch.manual_seed(0)
plain_20 = cifar_resnet(n=3, plain=True)
assert all(torch.equal(value, plain_20.state_dict()[key])
           for key, value in residual_20.state_dict().items())  # the same initial weights

# %% [markdown]
# Does plain-56 contain plain-20, as the notes' argument needs? Only in part: its 36 extra
# layers would have to pass their input through. In evaluation mode BatchNorm is a fixed
# scale and shift, and a conv-BN-ReLU layer can pass a non-negative input (a ReLU's output)
# unchanged. But in training mode BatchNorm divides by each batch's own statistics, and no
# setting of the layer passes every input through. A residual block can, in both modes: with
# $\gamma$ and $\beta$ of its last BatchNorm at zero it outputs
# $\mathrm{ReLU}(\mathbf{x}) = \mathbf{x}$.
#
# ## Your own run
#
# Its size follows the preset: on a CPU by default 20 and 56 layers, 1,000 images, 30
# epochs, three seeds; under `smoke` 8 and 20 layers, 192 images, 6 epochs. The first cell
# times a few steps and says how long the run will take here. **In class, skip the next
# cell**: the cells after it then read the saved run. Train at home.

# %%
train_images, train_labels = load_fashion_mnist(train=True)
config = run_config(PRESET)
print(PRESET, config)
results = None  # until the next cell has trained
estimate_twins(**config);

# %%
results = degradation_experiment(train_images, train_labels, **config, log=None)

# %%
if results is None:  # the training cell was skipped: the saved run stands in
    results = saved
plot_degradation(results, title_extra=i18n.label("saved_run_note") if results is saved else "")
plt.show()
print_summary(results)

# %% [markdown]
# On every seed, from the second epoch on, the deeper plain network's loss should stay above
# the shallower one's, and the deeper residual network should end below its plain twin:

# %%
def losses(kind, depth):
    return np.array([run["loss"] for run in results[kind][depth]])  # one row per seed


shallow, deep = results["config"]["depths"]
assert (losses("plain", deep)[:, 1:] > losses("plain", shallow)[:, 1:]).all()
assert (losses("residual", deep)[:, -1] < losses("plain", deep)[:, -1]).all()

# %%
exercises.check("06.1", answer_6_1, results=results)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
# The last epoch's loss of each twin at the deeper depth, one pair per seed.
last = {kind: [run["loss"][-1] for run in results[kind][deep]] for kind in ("plain", "residual")}
print(last)
plain_worse = sum(p > r for p, r in zip(last["plain"], last["residual"]))
solution_6_1 = "plain" if 2 * plain_worse > len(last["plain"]) else "residual"
assert exercises.check("06.1", solution_6_1, results=results)

# %% [markdown]
# ## Gradients at initialisation
#
# Why is the deep plain network hard to train? The first guess is *vanishing gradients*,
# which the paper doubts. Let's look: one batch of 64 images, forward and backward at
# initialisation, and the norm of each convolution's weight gradient, input side first, in
# the 56-layer twins.

# %%
images, labels = train_images[:64], train_labels[:64]
norms, measured = {}, {}
for kind in ("plain", "residual"):
    torch.manual_seed(0)
    net = cifar_resnet(depth_to_n(56), plain=(kind == "plain"))
    norms[kind] = conv_grad_norms(net, images, labels)
    g = [norm for _, norm in norms[kind]]
    # BatchNorm follows every conv: a step changes it by the gradient over its weights' size
    modules = dict(net.named_modules())
    relative = [norm / modules[name].weight.norm().item() for name, norm in norms[kind]]
    measured[kind] = dict(first_last=g[0] / g[-1], spread=max(g) / min(g),
                          relative=relative[0] / relative[-1])

plot_grad_norms({f"{i18n.label(kind)}-56": named for kind, named in norms.items()})
plt.show()

print(" " * 10 + "".join(i18n.pad(i18n.tr(f"grad_col_{column}"), 22)
                         for column in ("first_last", "spread", "relative")))
for kind, row in measured.items():
    print(i18n.pad(i18n.tr(kind), 10) + "".join(f"{value:<22.0f}" for value in row.values()))

assert measured["plain"]["first_last"] > 500  # the plain net's gradients grow to the input
assert measured["residual"]["spread"] < 20  # the twin's stay comparable
assert measured["plain"]["relative"] > 10 * measured["residual"]["relative"]

# %% [markdown]
# Nothing vanishes, but the plain network's gradients are **badly scaled across depth**:
# the first convolution's is about a thousand times the last one's (first column). A
# convolution followed by BatchNorm computes the same whatever the size of its weights, so a
# step changes it by the gradient over the weights' size (last column): at one learning
# rate, the plain network's first layer moves, relative to its size, about ten thousand
# times as far as its last, the residual twin's about a hundred times. Through a deep plain
# stack with BatchNorm the gradient grows layer by layer (Yang et al., 2019); in the
# residual twin it also passes through every shortcut.
#
# **Exercise 2.** How many trainable parameters has the 32-layer residual twin,
# `cifar_resnet(5)`? Answer with an integer, counting BatchNorm's $\gamma$ and $\beta$ but not
# its running statistics. Count by hand (the paper's Table 6 rounds it to 0.46M), then check.

# %%
answer_6_2 = ...  # your answer · 你的答案: an integer · 整数

# %%
exercises.check("06.2", answer_6_2)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
# n = 5 blocks per stage; each block: two 3x3 convs without bias and two BatchNorms.
widths, n = (16, 32, 64), 5
convs = 1 * 16 * 3 * 3 + sum(c_in * c_out * 3 * 3 + c_out * c_out * 3 * 3
                             for c_in, c_out in zip((16,) + widths[:-1], widths)) \
    + sum((n - 1) * 2 * c * c * 3 * 3 for c in widths)
batch_norms = 2 * 16 + sum(n * 2 * 2 * c for c in widths)
solution_6_2 = convs + batch_norms + 64 * 10 + 10
assert exercises.check("06.2", solution_6_2)

# %% [markdown]
# ## Going further
#
# **The notes' shortcut.** Where a stage changes the shape, the notes' block puts a 1×1
# convolution on the shortcut: a learned projection, with weights that train like any
# other's. The twins would then differ in their parameters, so the paper's CIFAR networks use
# the parameter-free shortcut above (its "option A"). With projections, the 20-layer network
# gains two 1×1 convolutions, 16→32 and 32→64 channels; the paper's Table 6 gives the sizes
# with option A:

# %%
projection_20 = cifar_resnet(n=3, shortcut="projection")
print(count_parameters(projection_20) - count_parameters(residual_20))
for depth, millions in {20: 0.27, 32: 0.46, 44: 0.66, 56: 0.85}.items():
    print(f"{depth}: {count_parameters(cifar_resnet(depth_to_n(depth))):,} ({millions}M)")

# %% [markdown]
# **Gradients across depths.** The same profile for both kinds at several depths, and the
# first-over-last ratio for each depth: the plain network's imbalance grows with depth.

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

# the first conv's gradient norm over the last one's, at each depth
ratios = {kind: [by_depth[d][0][1] / by_depth[d][-1][1] for d in depths]
          for kind, by_depth in profiles.items()}
print(" " * 10 + "".join(f"{d:>10}" for d in depths))
for kind, values in ratios.items():
    print(i18n.pad(i18n.tr(kind), 10) + "".join(f"{v:10.1f}" for v in values))
assert all(a < b for a, b in zip(ratios["plain"], ratios["plain"][1:]))  # grows with depth

# %% [markdown]
# **Try it yourself.** Other depths or sizes, e.g.
# `degradation_experiment(train_images, train_labels, **run_config("smoke", depths=(8, 32), train_size=512, epochs=20))`.
# Or take BatchNorm out: replace every `nn.BatchNorm2d` of a plain network by
# `nn.Identity()` (a loop over `net.named_modules()` with `setattr`) and plot its gradient
# norms beside the others.
