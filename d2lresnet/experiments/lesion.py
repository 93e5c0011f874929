"""The lesion study of Veit et al. (2016), "Residual Networks Behave Like Ensembles of Relatively
Shallow Networks": delete one block of a trained network at test time and measure what is left.

A residual block computes relu(x + f(x)); deleted, it passes x on unchanged, the path its
shortcut already offered. A plain block computes relu(f(x)); deleted, the next layer receives an
input it was never trained on. Only blocks that keep their shape can be deleted: elsewhere the
next block expects other channels or another size.

    nets = train_twins(images, labels, **run_config("smoke"), seed=0)
    study = lesion_study(nets["residual", 20], calibration, test_images, test_labels)

BatchNorm: every accuracy here is taken in eval mode, with running statistics that are those of
the data the network sees, measured again after each deletion (calibrate_batchnorm). Without
that, the layers after a deleted block would normalise with statistics taken from the intact
network, and a drop would mix what the network lost with a stale mean and variance.
"""
import copy

import torch
from torch import nn

from .. import i18n
from ..data import TRAIN_IMAGES
from ..machine import choose_precision
from ..presets import default_preset_name
from . import degradation
from .degradation import RECIPE
from .twins import CifarBlock

# Test images, and training images for the running statistics, per study: smoke takes seconds.
SETTINGS = {"smoke": dict(images=256), "default": dict(images=500)}


def settings(preset=None):
    """The study's size for a preset (default: default_preset_name())."""
    return SETTINGS["smoke" if (preset or default_preset_name()) == "smoke" else "default"]


def training_subset(train_size, seed, images=TRAIN_IMAGES):
    """The indices of the training images a twin of this seed trains on (as in notebook 06)."""
    return torch.randperm(images, generator=torch.Generator().manual_seed(seed))[:train_size]


def train_twin_net(images, labels, kind, depth, seed, train_size, epochs, batch_size,
                   lr=RECIPE["lr"], momentum=RECIPE["momentum"], device="cpu"):
    """One twin trained as notebook 06 trains it (degradation.train_twin_net), returned on the
    CPU in fp32 with its training loss per epoch."""
    net, history = degradation.train_twin_net(images, labels, kind, depth, seed, train_size,
                                              epochs, batch_size, lr, momentum, device)
    return net.cpu().float().to(memory_format=torch.contiguous_format), history.train_loss


def train_twins(images, labels, depths, train_size, epochs, batch_size, seed=0, **_):
    """Plain and residual twins of every depth, one seed: {(kind, depth): net}, and their
    training losses {(kind, depth): [loss per epoch]}. Extra keywords (a run_config's seeds)
    are ignored, so a whole run_config can be passed."""
    nets, losses = {}, {}
    for kind in ("plain", "residual"):
        for depth in depths:
            nets[kind, depth], losses[kind, depth] = train_twin_net(
                images, labels, kind, depth, seed, train_size, epochs, batch_size)
    return nets, losses


def as_batch(images):
    """uint8 (N, 28, 28) images as the data loader feeds them: float (N, 1, 28, 28) in [0, 1]."""
    return images.unsqueeze(1).float() / 255


@torch.no_grad()
def calibrate_batchnorm(net, X, batch_size=256):
    """Make every BatchNorm's running mean and variance those of the inputs X (a float batch)
    passing through ``net`` as it is now: reset them, then one pass in train mode without
    gradients, averaging over all batches alike (momentum None) rather than weighting the last
    ones. Returns net, in eval mode."""
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average
    net.train()
    for chunk in X.split(batch_size):
        net(chunk)
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    return net.eval()


@torch.no_grad()
def accuracy(net, X, labels, batch_size=256):
    """The share of X that net (as it is, eval mode or not) classifies right."""
    predictions = torch.cat([net(chunk).argmax(dim=1) for chunk in X.split(batch_size)])
    return (predictions == labels).float().mean().item()


def _fast(precision):
    """bf16 autocast where the CPU has bf16 (a class decision, not a fine loss, is measured)."""
    precision = choose_precision(torch.device("cpu"), precision)
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")


def units(net):
    """The network as one sequence: stem, every block of every stage, then the head. Deleting
    unit i leaves units[:i] and units[i + 1:]."""
    return [unit for layer in net for unit in (layer if isinstance(layer, nn.Sequential)
                                               and not isinstance(layer[0], nn.Conv2d)
                                               else [layer])]


def keeps_shape(unit):
    """A block that can be deleted: stride 1, as many channels out as in."""
    return (isinstance(unit, CifarBlock) and unit.conv1.stride == (1, 1)
            and unit.conv1.in_channels == unit.conv2.out_channels)


@torch.no_grad()
def lesion_study(net, calibration, test_images, test_labels, precision="auto"):
    """Delete each shape-keeping block of ``net`` in turn and test what is left. Every network,
    the intact one too, first gets its BatchNorm statistics from ``calibration`` (uint8
    training images). Returns {"intact": accuracy, "blocks": [unit index per deleted block],
    "lesioned": [accuracy after each deletion]}.

    The layers before a deleted block do not change, so their outputs are computed once: the
    loop carries the calibration and test batches forward through the intact network, and at
    each block only the layers after it are calibrated again and tested."""
    C, T = as_batch(calibration), as_batch(test_images)
    with _fast(precision):
        intact = calibrate_batchnorm(nn.Sequential(*copy.deepcopy(units(net))), C)
        study = dict(intact=accuracy(intact, T, test_labels), blocks=[], lesioned=[])
        for i, unit in enumerate(intact):
            if keeps_shape(unit):
                rest = calibrate_batchnorm(copy.deepcopy(intact[i + 1:]), C)
                study["blocks"].append(i)
                study["lesioned"].append(accuracy(rest, T, test_labels))
            C, T = unit(C), unit(T)  # eval mode: what the next unit sees at test time
    return study


def mean_drop(study):
    """How much test accuracy one deleted block costs, on average over the blocks."""
    return study["intact"] - sum(study["lesioned"]) / len(study["lesioned"])


def plot_lesions(studies, ax=None, chance=0.1):
    """Test accuracy after deleting each block, one line per network ({label: study}), the
    intact network's accuracy as a dotted line in the same colour."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    for i, (label, study) in enumerate(studies.items()):
        ax.plot(range(1, len(study["lesioned"]) + 1), study["lesioned"], "o-", color=f"C{i}",
                label=label)
        ax.axhline(study["intact"], color=f"C{i}", ls=":", lw=1)
    ax.axhline(chance, color="gray", lw=1)
    ax.set(xlabel=i18n.label("lesion_xlabel"), ylabel=i18n.label("test_acc"),
           ylim=(0, 1), title=i18n.label("lesion_title"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax
