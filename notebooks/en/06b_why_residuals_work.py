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
# # Why residual blocks work
#
# *Beyond the notes.* The notes give one reason for the residual block: new layers that can
# easily become the identity mapping cannot make a network worse. Notebook 06 showed the
# outcome: a deep plain network trains worse than a shallow one, its residual twin does not.
# Here you look inside trained networks for the reason, with three measurements from the
# papers that followed: how the gradient spreads over ResNet-18's layers, what a trained
# network loses when one block is deleted (Veit et al., 2016), and the shape of the loss around
# the trained weights (Li et al., 2018). Run All takes about 12 minutes under the default preset
# on a 2-core CPU.

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from d2lresnet import resnet18
from d2lresnet.data import load_fashion_mnist
from d2lresnet.experiments import gradients, landscape, lesion
from d2lresnet.experiments.degradation import run_config
from d2lresnet.experiments.twins import estimate_twins
from d2lresnet.presets import default_preset_name
from d2lresnet.train import init_weights

PRESET = default_preset_name()  # D2LRESNET_PRESET=smoke: every run below in seconds
train_images, train_labels = load_fashion_mnist(train=True)
test_images, test_labels = load_fashion_mnist(train=False)

# %% [markdown]
# ## Gradients in ResNet-18
#
# Take the notes' ResNet-18 as they initialise it (Xavier) and the same network with every
# shortcut taken away: the same layers and weights, nothing added (the $1\times 1$
# convolutions of the shortcuts go too). On one batch we take the gradient of the loss with
# respect to each convolution's weights and divide its norm by the norm of those weights. That
# ratio is how far one SGD step moves a layer, relative to its size; with batch normalization
# after every convolution, the size of the weights themselves does not change what the network
# computes. Each line below gives a network's *spread*, the largest ratio over the smallest
# among its blocks' convolutions, for three seeds, at initialisation and after a short
# training with the notes' recipe.

# %%
def relative_gradients(nets, images=train_images[-64:], labels=train_labels[-64:]):
    return {label: gradients.conv_grad_norms(net, images, labels, relative=True)
            for label, net in nets.items()}


def spread(named_norms):
    """Largest over smallest relative gradient of the blocks' convolutions (the stem, b1,
    lies outside every block and is left out)."""
    values = [value for name, value in named_norms if not name.startswith("0.")]
    return max(values) / min(values)


RESIDUAL, PLAIN = "ResNet-18", i18n.label("resnet18_plain")
short = gradients.settings(PRESET)
at_init, trained, losses = [], [], []
for seed in (0, 1, 2):
    torch.manual_seed(seed)
    residual = resnet18()
    residual.apply(init_weights)  # the notes' Xavier init
    nets = {RESIDUAL: residual, PLAIN: gradients.without_shortcuts(residual)}
    at_init.append(relative_gradients(nets))
    losses.append({label: gradients.train_steps(net, train_images, train_labels, seed=seed,
                                                **short) for label, net in nets.items()})
    trained.append(relative_gradients(nets))

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
gradients.plot_grad_norms(at_init[0], ax=axes[0], relative=True)
gradients.plot_grad_norms(trained[0], ax=axes[1], relative=True)
axes[1].set_title(i18n.label("grad_title_trained", steps=short["steps"]))
plt.show()
for seed, (before, after, loss) in enumerate(zip(at_init, trained, losses)):
    for label in (RESIDUAL, PLAIN):
        print(i18n.tr("grad_spread_line", seed=seed, net=label, before=spread(before[label]),
                      after=spread(after[label]), loss=loss[label]))

# At initialisation the shortcuts keep the layers' steps within a narrower range.
assert all(spread(g[PLAIN]) > 2 * spread(g[RESIDUAL]) for g in at_init)
# Training evens out the plain network's steps: at 18 layers it still learns. (smoke's 10
# steps are too few and too noisy: with 2 threads instead of 1 they left seeds 0 and 1 uneven.)
if PRESET != "smoke":
    assert all(spread(a[PLAIN]) < spread(b[PLAIN]) / 2 for a, b in zip(trained, at_init))

# %% [markdown]
# At initialisation the plain network's relative gradients fall steeply from the input side to
# the output side: its spread is more than twice ResNet-18's on every seed, the imbalance
# notebook 06 measured at 56 layers. A short training evens it out: the plain network's spread
# shrinks by more than half (under `smoke` the 10 steps are too few to show it). At 18 layers the shortcuts give a better-balanced
# start, not a network that learns where the plain one cannot; He et al. (2015) saw the same on
# ImageNet, where plain-18 and ResNet-18 reach about the same error. Depth makes the
# difference, as the next two measurements show.
#
# ## Deleting a block
#
# Veit et al. (2016) read a residual network as a collection of paths: at every block the
# signal can go through the residual branch or along the shortcut, so $n$ blocks give $2^n$
# paths of different lengths from input to output. Delete one block at test time and only the
# paths through its branch are gone; the others still compute what they computed in training.
# A plain network has one path: delete a block, and every later layer receives an input it
# never saw.
#
# We train the plain and residual twins of notebook 06, at the preset's depths and with its
# recipe, for one seed. Then we delete, one at a time, each block that keeps its shape (the
# others change the channels or the size, so the next block could not take their input) and
# test what is left. Mind batch normalization: before every test, the running statistics of
# the network, lesioned or not, are measured again on its training images, so a drop is what
# the network lost, not a stale mean and variance.

# %%
config = run_config(PRESET)
seed = config["seeds"][0]
estimate_twins(**{**config, "seeds": (seed,)});
twins, _ = lesion.train_twins(train_images, train_labels, **config, seed=seed)
subset = lesion.training_subset(config["train_size"], seed)
size = lesion.settings(PRESET)["images"]
studies = {(kind, depth): lesion.lesion_study(net, train_images[subset[:size]],
                                              test_images[:size], test_labels[:size])
           for (kind, depth), net in twins.items()}
lesion.plot_lesions({i18n.label("twin", kind=i18n.label(kind), depth=depth): study
                     for (kind, depth), study in studies.items()})
plt.show()
for (kind, depth), study in studies.items():
    print(i18n.tr("lesion_line", net=i18n.tr("twin", kind=i18n.tr(kind), depth=depth),
                  intact=study["intact"], low=min(study["lesioned"]),
                  high=max(study["lesioned"]), drop=lesion.mean_drop(study)))

shallow, deep = config["depths"]
residual_study, plain_study = studies["residual", deep], studies["plain", deep]
# A residual network loses little per deleted block; its plain twin loses much more.
assert lesion.mean_drop(plain_study) > 3 * max(lesion.mean_drop(residual_study), 0.01)
assert min(plain_study["lesioned"]) < min(residual_study["lesioned"]) - 0.1

# %% [markdown]
# Deleting one block costs the deeper residual twin little test accuracy on average; its plain
# twin loses several times as much, and some deletions take it close to chance (the grey
# line). This is what Veit et al. found on CIFAR-10 and ImageNet: a residual network behaves
# like many shallower networks that vote together, none of which needs every block.
#
# ## The loss around the trained weights
#
# Li et al. (2018) draw the training loss on a line and a plane through the trained weights
# $\mathbf{w}$: $L(\mathbf{w} + \alpha \mathbf{d}_1 + \beta \mathbf{d}_2)$, with random
# directions $\mathbf{d}_1, \mathbf{d}_2$. A random direction means little unless it is
# scaled to the network: after batch normalization a filter's scale does not change what it
# computes, so each filter of a direction gets the norm of the same filter in $\mathbf{w}$
# (*filter normalisation*); biases and batch normalization's $\gamma$ and $\beta$ stay
# fixed. As in their code, the loss is taken in eval mode, with the running statistics of the
# training images, here on a fixed subset of them and on a coarse grid from $-1$ to $1$.

# %%
grid = landscape.settings(PRESET)
probe = subset[:grid["images"]]
X, y = lesion.as_batch(train_images[probe]), train_labels[probe]
line_steps, grid_steps = np.linspace(-1, 1, grid["line"]), np.linspace(-1, 1, grid["grid"])
lines, planes = {}, {}
for (kind, depth), net in twins.items():
    lesion.calibrate_batchnorm(net, lesion.as_batch(train_images[subset]))
    d1, d2 = (landscape.filter_normalized_direction(net, k) for k in (0, 1))
    lines[kind, depth] = landscape.loss_surface(net, X, y, [d1], [line_steps])
    planes[kind, depth] = landscape.loss_surface(net, X, y, [d1, d2], [grid_steps, grid_steps])


def labelled(surfaces):
    return {i18n.label("twin", kind=i18n.label(kind), depth=depth): surface
            for (kind, depth), surface in surfaces.items()}


landscape.plot_landscapes(labelled(lines), labelled(planes), line_steps, grid_steps)
plt.show()
rough = {key: landscape.roughness(lines[key]) + landscape.roughness(planes[key])
         for key in twins}
for (kind, depth), value in rough.items():
    print(i18n.tr("rough_line", net=i18n.tr("twin", kind=i18n.tr(kind), depth=depth),
                  line=landscape.roughness(lines[kind, depth]),
                  plane=landscape.roughness(planes[kind, depth])))

# Around the deeper residual twin the loss is one valley, up to bumps of hundredths of a
# decade along the lines of the grid.
assert rough["residual", deep] < 0.05
if deep >= 56:  # the paper's depth: plain-56 rough, residual-56 smooth
    assert rough["plain", deep] > rough["residual", deep] + 0.1

# %% [markdown]
# The roughness counts, in decades of loss, how far the loss goes up and down along each line
# of the grid beyond one descent into a valley and one climb out: 0 on a bowl of any
# steepness. Around the deeper residual twin the loss falls into one valley, with at most
# tiny bumps.
# Li et al.'s claim is about 56 layers: there the plain twin's loss is a plateau of bumps
# around the trained weights, and the cell checks it when your twins have 56 layers (not
# under `smoke`, whose twins have 8 and 20, where both kinds look smooth, as in the paper).
#
# ## Exercises
#
# Replace each `...` with your answer (a value, or code that computes it) and run the cell,
# then the check below it, which says whether you are right or gives a hint.

# %%
from d2lresnet import exercises

# %% [markdown]
# **Exercise 1.** Read as Veit et al. read it, how many paths from input to output does the
# 20-layer residual twin have? At every block a path goes through the residual branch or
# along the shortcut (the two shortcuts that change the shape count as shortcuts too). Answer
# with an integer.

# %%
answer_6b_1 = ...  # your answer · 你的答案

# %%
exercises.check("06b.1", answer_6b_1)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
blocks = 3 * 3  # three stages of n = 3 blocks; each block doubles the number of paths
solution_6b_1 = 2 ** blocks
assert exercises.check("06b.1", solution_6b_1)

# %% [markdown]
# **Exercise 2.** Of those paths, how many go through exactly three residual branches, and
# along the shortcut at every other block? Answer with an integer. (Most paths are of middle
# length, which is one reading of why deleting one block costs a residual network little.)

# %%
answer_6b_2 = ...  # your answer · 你的答案

# %%
exercises.check("06b.2", answer_6b_2)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
import math

solution_6b_2 = math.comb(9, 3)  # which 3 of the 9 blocks the path passes through the branch
assert exercises.check("06b.2", solution_6b_2)
