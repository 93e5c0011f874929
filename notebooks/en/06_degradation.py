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

# %%
import inspect
import math

import matplotlib.pyplot as plt
import torch
from IPython.display import Image, display
from torch import nn

from d2lresnet import count_layers, count_parameters, trace_shapes
from d2lresnet.data import load_fashion_mnist
from d2lresnet.experiments.degradation import (RECIPE, RUNS, degradation_experiment, load_results,
                                   plot_degradation, run_config)
from d2lresnet.experiments.gradients import conv_grad_norms, plot_grad_norms
from d2lresnet.presets import default_preset_name
from d2lresnet.experiments.twins import CifarBlock, cifar_resnet, depth_to_n

# The run's length follows D2LRESNET_PRESET: smoke (CI) half a minute, quick (a CPU) minutes,
# book (a GPU) the full run of the saved figure. PRESET = "book" runs the full one here.
PRESET = default_preset_name()
REFERENCE = "../figures/degradation"  # the full run: its figure (.png) and numbers (.json)

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
# layers, $n = 9$ gives 56. The residual blocks are the notes' `Residual`. The plain twin is
# the same block with the addition left out:

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
# Both twins of each depth are trained by the same trainer as ResNet-18 in notebook 05
# (`d2lresnet.train.train`), keeping the twins' own initialisation, with the same recipe on
# the same images: SGD with momentum 0.9 and weight decay $10^{-4}$, a one-cycle learning rate
# peaking at 0.1, bfloat16 autocast where the CPU has it. The training error is counted on the
# batches as they are trained on, ten points per epoch; the test error after each epoch.
#
# The preset chooses the run's length, as it does for training:
#
# * `quick` (the default on a CPU): 20 and 56 layers, as in the paper's figure, on fewer images
#   and epochs than the full run: several minutes;
# * `book` (the default on a GPU): the full run behind the saved figure below. To run it here,
#   set `PRESET = "book"` in the cell above, or start Jupyter with `D2LRESNET_PRESET=book`; from
#   a terminal: `python -m d2lresnet degradation --preset book`;
# * `smoke` (for CI): 8 and 32 layers, about half a minute.
#
# The time each takes is estimated below from the speed of the full run (a network's cost
# grows with images × epochs × layers). That run was measured on a 2-core CPU without bf16
# (AVX2 only) that was busy with other work for part of the time, so the estimates are on the
# slow side; a CPU with bf16 runs it about four times faster.

# %%
saved = load_results(f"{REFERENCE}.json")


def work(run):
    """Images seen times layers passed, over all the nets of a run."""
    return 2 * run["epochs"] * run["train_size"] * sum(run["depths"])


minutes = {name: saved["config"]["seconds"] * work(run) / work(saved["config"]) / 60
           for name, run in RUNS.items()}
for name, run in RUNS.items():
    print(f"{name:6s} {minutes[name]:5.1f} min  {run}")
print(RECIPE)
assert minutes["smoke"] < minutes["quick"] / 5 and minutes["quick"] < minutes["book"] / 5

# %%
test_images, test_labels = load_fashion_mnist(train=False)
config = run_config(PRESET)
print(PRESET, config)
results = degradation_experiment(train_images, train_labels, test_images, test_labels,
                                 **config, log=None, progress=PRESET != "smoke")
plot_degradation(results)
plt.show()

# %% [markdown]
# **What to look for.** The left panel is the plain networks, the right the residual ones, in
# the layout of the paper's Fig. 6. The deeper plain network's training error (its thin line)
# ends above the shallower one's; the residual twins of the same depths end much closer
# together, and both below the deep plain net.
#
# The cell below reads each network's training error in the last epoch from the run and
# checks this. A plain network that is deeper trains worse, by a clear margin, on every
# preset. That the shortcut takes away most of the cost of depth is checked on the `quick`
# and `book` runs only: the `smoke` run is too short for the residual nets to settle, and
# how much depth costs them there changes from one random seed to the next.

# %%
def final_train_error(results):
    """{kind: {depth: training error in the last epoch}}."""
    return {kind: {depth: history["train_err"][-1]
                   for depth, history in sorted(results[kind].items())}
            for kind in ("plain", "residual")}


def cost_of_depth(errors):
    """The deepest net's final training error minus the shallowest's, for each kind."""
    return {kind: by_depth[max(by_depth)] - by_depth[min(by_depth)]
            for kind, by_depth in errors.items()}


def show(errors):
    depths = sorted(errors["plain"])
    print(" " * 10 + "".join(f"{depth:>8}" for depth in depths) + f"{'Δ':>8}")
    for kind, by_depth in errors.items():
        print(i18n.pad(i18n.tr(kind), 10) + "".join(f"{by_depth[d]:8.3f}" for d in depths)
              + f"{cost_of_depth(errors)[kind]:+8.3f}")


errors = final_train_error(results)
show(errors)
cost = cost_of_depth(errors)
assert cost["plain"] > 0.05  # the deep plain net trains worse (smoke too: 3 seeds checked)
if PRESET != "smoke":  # too short for the residual twins to settle
    assert cost["residual"] < cost["plain"] / 2  # the shortcut takes away most of that
    assert errors["residual"][max(errors["residual"])] < errors["plain"][max(errors["plain"])]

# %% [markdown]
# ## The reference run
#
# The full run (`book`) was made once and saved with its numbers. Its figure and its final
# training errors:

# %%
display(Image(f"{REFERENCE}.png"))
saved_steps = saved["config"]["epochs"] * math.ceil(saved["config"]["train_size"]
                                                    / saved["config"]["batch_size"])
print(saved["config"], saved_steps)
reference = final_train_error(saved)
show(reference)
reference_cost = cost_of_depth(reference)
assert saved["config"]["depths"] == list(RUNS["book"]["depths"])
assert saved["config"]["train_size"] == RUNS["book"]["train_size"]

# %% [markdown]
# Going from 20 to 56 layers costs the plain network many points of training error. The
# residual network pays far less, but in our run it still pays: residual-56 ends several
# points above residual-20, about level with plain-20, and far below plain-56. In the paper
# the deeper residual net trains better than the shallower one; the paper trains for 64,000
# steps, our reference run for about 700 (printed above), and a deeper net needs longer to
# catch up. What our run shows is the part of the claim that holds after a short training:
# the shortcut removes most of the cost of depth, not all of it. How much is left moves from
# run to run at this length: an earlier run of the same experiment (bf16 on another CPU, before
# the trainer was shared) left residual-56 only one point above residual-20.

# %%
assert reference_cost["plain"] > 0.05  # plain-56 clearly worse than plain-20
assert 0 < reference_cost["residual"] < reference_cost["plain"] / 2  # pays, but far less
assert reference["residual"][56] < reference["plain"][56] - 0.05
assert abs(reference["residual"][56] - reference["plain"][20]) < 0.02  # about level
assert 650 < saved_steps < 750

# %% [markdown]
# **Try it yourself.** Other depths or lengths, e.g. a plain and a residual net of 8 and 32
# layers on 3,000 images:
# `degradation_experiment(train_images, train_labels, test_images, test_labels,
# **run_config("quick", depths=(8, 32), epochs=3, train_size=3000))`.
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
#   On your run and on the saved reference run, the deep plain network ends with a clearly
#   higher training error than the shallow one.
# * Residual twins with the same layers and the same initial weights pay far less for depth.
#   In our short reference run residual-56 still ends above residual-20 (the paper, training
#   far longer, finds it below), about level with plain-20 and far below plain-56.
# * The 1x1 convolution on the notes' shortcut is a learned projection with its own weights;
#   the twins here use the paper's parameter-free shortcut so that they stay exact twins.
# * At initialisation the deep plain network's gradients do not vanish: they grow towards the
#   input by orders of magnitude, more so the deeper the net. The residual twin's stay within
#   about one order of magnitude across all its layers.
