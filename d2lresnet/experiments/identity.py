"""A block learns the identity (6.1, trained): new layers, and only they, trained into f(x) = x.

The notes: if a newly added layer can be *trained* into the identity mapping, the deeper model is
as good as the original. So put new layers at PyTorch's default init after a trained body,
freeze everything else, and train the new layers to give back what they receive (mean squared
error), recording how far they are from the identity and the loss of the whole net as they go.
Two plain conv-BN-ReLU layers against one residual block, which holds the same two conv layers:

    features = body.eval()(X)  # what the new layers receive from the frozen body
    curves = identity_curves(features, head, y, channels=8, steps=300, seeds=range(3))
    plot_identity(curves, steps=300, small_loss=loss of body -> head)
"""
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .. import i18n
from ..blocks import Residual
from ..presets import default_preset_name
from .insertion import conv_bn_relu, outputs, train

KINDS = ("plain", "residual")
CLOSE = 0.05  # "at the identity": the output within 5% of the input (relative distance)

# smoke: seconds on a 2-core CPU, enough for the residual block to get within CLOSE (between
# steps 90 and 100 on the seeds tried); otherwise twice that, to see whether plain follows.
SETTINGS = {"smoke": dict(steps=150, seeds=(0, 1, 2), every=10),
            "default": dict(steps=300, seeds=(0, 1, 2, 3, 4), every=10)}


def settings(preset=None):
    """The run for a preset (default: default_preset_name()): smoke's, or the default one."""
    return SETTINGS["smoke" if (preset or default_preset_name()) == "smoke" else "default"]


def new_layers(kind, channels, seed=0):
    """Two plain conv-BN-ReLU layers, or one residual block (the same two 3x3 convs and batch
    norms, plus the shortcut), at PyTorch's default init drawn from ``seed``."""
    torch.manual_seed(seed)
    if kind == "plain":
        return nn.Sequential(conv_bn_relu(channels), conv_bn_relu(channels))
    return Residual(channels, channels)


def distance_to_identity(layers, H):
    """||layers(H) - H|| / ||H|| on all of H, batch norms on the statistics of all of it: 0 for
    the identity, about 1 for layers that ignore their input."""
    return ((outputs(layers, H) - H).norm() / H.norm()).item()


def learn_identity(layers, H, head, y, steps, seed=0, every=10, lr=0.05, batch_size=64):
    """Train ``layers``, and only them, to reproduce their input H (SGD with momentum 0.9 on
    random batches drawn from ``seed``). Returns two arrays of steps // every + 1 numbers, from
    step 0: the distance to the identity, and the loss of head(layers(H)) on labels y (the head
    is not trained; it shows what the grown net has kept)."""
    def measure():
        out = outputs(layers, H)
        with torch.no_grad():
            loss = F.cross_entropy(head(out), y).item()
        return ((out - H).norm() / H.norm()).item(), loss

    points = train(layers, H, H, steps, seed, every, lr, batch_size, loss=F.mse_loss,
                   measure=measure)
    distances, losses = np.array(points).T
    return distances, losses


def identity_curves(H, head, y, channels, steps, seeds, every=10):
    """For each kind, {"distance": array (seed, point), "loss": array (seed, point)}. Seed s
    draws both the new layers and the batches."""
    curves = {}
    for kind in KINDS:
        runs = [learn_identity(new_layers(kind, channels, seed), H, head, y, steps, seed, every)
                for seed in seeds]
        curves[kind] = {"distance": np.array([d for d, _ in runs]),
                        "loss": np.array([loss for _, loss in runs])}
    return curves


def steps_to(curve, every, threshold=CLOSE):
    """The first step at which each seed's curve is below ``threshold``; None where it never
    is."""
    return [int(np.argmax(row < threshold)) * every if (row < threshold).any() else None
            for row in curve]


def plot_identity(curves, steps, small_loss, axes=None):
    """Distance to the identity (left, dotted: CLOSE) and the grown net's loss (right, dashed:
    the small net's) against steps, one thin line per seed, log scale, in the i18n language."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")
    colors = {"plain": "C3", "residual": "C0"}
    for (quantity, ylabel), ax in zip((("distance", "distance_to_identity"),
                                       ("loss", "grown_loss")), axes):
        for kind in KINDS:
            values = curves[kind][quantity]
            x = np.linspace(0, steps, values.shape[1])
            for seed, row in enumerate(values):
                ax.semilogy(x, row, color=colors[kind], lw=1, alpha=0.8,
                            label=i18n.label(f"identity_{kind}") if seed == 0 else None)
        ax.set(xlabel=i18n.label("steps_training_new"), ylabel=i18n.label(ylabel))
        ax.grid(alpha=0.3, which="both")
    axes[0].axhline(CLOSE, color="gray", ls=":", lw=1, label=i18n.label("identity_close"))
    axes[1].axhline(small_loss, color="k", ls="--", lw=1, label=i18n.label("identity_small_net"))
    for ax in axes:
        ax.legend()
    return axes
