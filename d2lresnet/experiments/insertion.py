"""Growing a trained network (6.1, measured): append new layers three ways, train on, compare.

The notes: if the new layers can be trained into the identity mapping, the deeper net is as good
as the shallow one, and a residual block makes the identity easier to reach. So take a trained
small net (``body`` then ``head``), put the same number of new conv layers between the two in
three ways, train every variant with the same batches, and record its training loss from the
moment of insertion, against a control that adds nothing:

    nets = grow(body, head, channels=8, blocks=2, seed=0)
    curves = insertion_curves(body, head, X, y, channels=8, blocks=2, steps=200, seeds=range(5))
    plot_insertion(curves, steps=200)

The loss is taken with every batch norm normalising by the statistics of all the data, not in
eval mode: a layer inserted at default init holds running statistics of no data (mean 0,
variance 1), and during training they trail the weights by some ten steps, so an eval-mode curve
measures that lag as much as the learning.
"""
import copy
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .. import i18n
from ..blocks import Residual
from ..machine import announce, time_steps
from ..presets import default_preset_name

VARIANTS = ("control", "plain", "residual", "zero_init")

# Steps after insertion, seeds, and how often the loss on all the data is taken. smoke: seconds
# on a 2-core CPU, long enough for the jump and what follows it; otherwise long enough for the
# deeper nets to pass the control (on 6 seeds tried, between steps 94 and 202).
SETTINGS = {"smoke": dict(steps=30, seeds=(0, 1, 2), every=2),
            "default": dict(steps=300, seeds=(0, 1, 2, 3, 4), every=5)}


def settings(preset=None):
    """The run for a preset (default: default_preset_name()): smoke's, or the default one."""
    return SETTINGS["smoke" if (preset or default_preset_name()) == "smoke" else "default"]


def conv_bn_relu(channels):
    """One plain layer: 3x3 conv, batch norm, ReLU, keeping the shape."""
    return nn.Sequential(nn.Conv2d(channels, channels, kernel_size=3, padding=1),
                         nn.BatchNorm2d(channels), nn.ReLU())


def grow(body, head, channels, blocks, seed=0):
    """The four variants of the trained net body -> head, each with its own copy of the trained
    weights; the new layers are drawn from ``seed`` at PyTorch's default init:

    control: nothing added; plain: 2 * blocks conv-BN-ReLU layers; residual: ``blocks`` residual
    blocks (two conv layers each: the same conv layers and parameters as plain); zero_init: the
    same residual blocks after zero_init_(), the notes' "set the upper layer's weight and bias
    to 0"."""
    torch.manual_seed(seed)
    plain = [conv_bn_relu(channels) for _ in range(2 * blocks)]
    residual = [Residual(channels, channels) for _ in range(blocks)]
    zero_init = [copy.deepcopy(block).zero_init_() for block in residual]
    new_layers = {"control": [], "plain": plain, "residual": residual, "zero_init": zero_init}
    return {name: nn.Sequential(copy.deepcopy(body), *new_layers[name], copy.deepcopy(head))
            for name in VARIANTS}


def outputs(net, X):
    """The net's output on all of X, each batch norm normalising by the statistics of all of X:
    the function the optimiser trains, without one batch's noise. It runs a copy in train mode,
    so the net's own running statistics stay as they were."""
    with torch.no_grad():
        return copy.deepcopy(net).train()(X)


def training_loss(net, X, y, loss=F.cross_entropy):
    """The loss on all the training data (see outputs)."""
    return loss(outputs(net, X), y).item()


def train(net, X, y, steps, seed=0, every=1, lr=0.02, batch_size=64, loss=F.cross_entropy,
          measure=None):
    """SGD with momentum 0.9 on random batches drawn from ``seed`` (every net given the same
    seed sees the same batches). Returns measure() (default: the loss on all the training
    data) before the first step and after every ``every`` steps: steps // every + 1 of them."""
    batches = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    measure = measure or (lambda: training_loss(net, X, y, loss))
    points = [measure()]
    for step in range(1, steps + 1):
        net.train()
        batch = torch.randint(0, len(X), (batch_size,), generator=batches)
        batch_loss = loss(net(X[batch]), y[batch])
        optimizer.zero_grad()
        batch_loss.backward()
        optimizer.step()
        if step % every == 0:
            points.append(measure())
    return points


def insertion_curves(body, head, X, y, channels, blocks, steps, seeds, every=1):
    """For each variant, an array (seed, point) of training losses: point 0 at insertion, then
    every ``every`` steps. Seed s draws both the new layers and the batches."""
    curves = {name: [] for name in VARIANTS}
    for seed in seeds:
        for name, net in grow(body, head, channels, blocks, seed).items():
            curves[name].append(train(net, X, y, steps, seed=seed, every=every))
    return {name: np.array(losses) for name, losses in curves.items()}


def estimate_insertion(body, head, X, y, channels, blocks, steps, seeds, every=1,
                       clock=time.perf_counter):
    """Seconds that insertion_curves(...) will take here, printed before it starts: ``every``
    steps of the four variants on one seed, timed after one such chunk to warm up, times the
    run's chunks and seeds."""
    def chunk():
        insertion_curves(body, head, X, y, channels, blocks, every, seeds[:1], every)
    return announce(time_steps(chunk, n=1, clock=clock) * (steps // every) * len(seeds))


def plot_insertion(curves, steps, blocks, ax=None):
    """The four variants' training-loss curves from insertion (step 0), one thin line per seed,
    log scale, in the i18n language."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.5), layout="constrained")
    styles = {"control": ("k", 4, 0.3), "plain": ("C3", 1, 0.8), "residual": ("C0", 1, 0.8),
              "zero_init": ("C2", 1.5, 0.9)}
    for name in VARIANTS:
        losses = curves[name]
        color, width, alpha = styles[name]
        x = np.linspace(0, steps, losses.shape[1])
        for seed, seed_losses in enumerate(losses):
            ax.semilogy(x, seed_losses, color=color, lw=width, alpha=alpha,
                        label=i18n.label(f"insertion_{name}", n=blocks, layers=2 * blocks)
                        if seed == 0 else None)
    ax.set(xlabel=i18n.label("steps_after_insertion"), ylabel=i18n.label("training_loss_all"))
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))  # beside the curves, not on them
    return ax
