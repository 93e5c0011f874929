"""Gradients, layer by layer: the weight-gradient norm of every conv, input side to output, and
the same network with its shortcuts taken away (without_shortcuts) to compare them with."""
import copy

import torch
from torch import nn
from torch.nn import functional as F

from .. import i18n
from ..blocks import Residual
from ..presets import default_preset_name

# The short training of notebook 06b: the notes' recipe (SGD, lr 0.05, Fashion-MNIST at 28x28)
# for a few steps; smoke: seconds on a 2-core CPU.
SETTINGS = {"smoke": dict(steps=10, batch_size=32), "default": dict(steps=30, batch_size=128)}


def settings(preset=None):
    """The short training's size for a preset (default: default_preset_name())."""
    return SETTINGS["smoke" if (preset or default_preset_name()) == "smoke" else "default"]


def conv_grad_norms(net, images, labels, relative=False):
    """The gradient of the loss on one batch (train mode, fp32) with respect to every conv on
    the main path (shortcut convs left out), in the order the input meets them: [(name, norm)].
    images: uint8 (N, 28, 28) as Fashion-MNIST holds them. relative=True divides each norm by
    the norm of the weights it belongs to: the share of a layer's weights one SGD step moves
    per unit of learning rate, which is what counts where a BatchNorm follows the conv (it
    undoes any scale of the weights, and a larger weight gets a proportionally smaller
    gradient)."""
    shortcuts = {id(m) for blk in net.modules() if getattr(blk, "shortcut", None) is not None
                 for m in blk.shortcut.modules()}
    convs = [(name, m) for name, m in net.named_modules()
             if isinstance(m, nn.Conv2d) and id(m) not in shortcuts]
    net.train()
    X = images.unsqueeze(1).float() / 255  # as the data loader feeds them
    loss = F.cross_entropy(net(X), labels)
    # Only the gradients are wanted, no training step: ask autograd for them directly.
    grads = torch.autograd.grad(loss, [m.weight for _, m in convs])
    return [(name, (grad.norm() / (m.weight.norm() if relative else 1)).item())
            for (name, m), grad in zip(convs, grads)]


class WithoutShortcut(nn.Module):
    """A residual block with its shortcut taken away: the same layers and weights, nothing
    added, relu(bn2(conv2(relu(bn1(conv1(x))))))."""

    def __init__(self, block):
        super().__init__()
        self.conv1, self.bn1, self.conv2, self.bn2 = block.conv1, block.bn1, block.conv2, block.bn2

    def forward(self, X):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(X))))))


def without_shortcuts(net):
    """A copy of net, with the same weights, whose every residual block adds nothing (its 1x1
    shortcut conv, where it has one, goes too): the plain network of the same layers, the
    paper's plain-18 beside ResNet-18. The layers keep their names, so their gradients can be
    set side by side."""
    plain = copy.deepcopy(net)
    for name, module in list(plain.named_modules()):
        if isinstance(module, Residual):
            parent, _, child = name.rpartition(".")
            setattr(plain.get_submodule(parent), child, WithoutShortcut(module))
    return plain


def train_steps(net, images, labels, steps, batch_size, lr=0.05, seed=0):
    """Train net in place for ``steps`` steps of plain SGD (the notes' recipe, without their
    init: the net keeps its weights) on the first steps * batch_size images, shuffled by seed.
    Returns the mean training loss over those steps."""
    from ..data import FashionMNISTBatches
    from ..train import train

    count = steps * batch_size
    batches = FashionMNISTBatches(images[:count], labels[:count], batch_size, shuffle=True,
                                  seed=seed)
    check = FashionMNISTBatches(images[:batch_size], labels[:batch_size], batch_size)
    history = train(net, batches, check, 1, lr, "cpu", init=None, progress=False)
    if history.interrupted:
        raise KeyboardInterrupt
    net.float().to(memory_format=torch.contiguous_format)
    return history.train_loss[0]


def plot_grad_norms(norms_by_label, ax=None, relative=False):
    """One line per network: gradient norm per conv layer, log scale (text in the i18n
    language); relative=True labels the norms as conv_grad_norms(..., relative=True) gives
    them."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    for label, norms in norms_by_label.items():
        ax.semilogy(range(1, len(norms) + 1), [v for _, v in norms], ".-", label=label)
    ax.set(xlabel=i18n.label("grad_xlabel"), title=i18n.label("grad_title"),
           ylabel=i18n.label("rel_grad_ylabel" if relative else "grad_ylabel"))
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return ax
