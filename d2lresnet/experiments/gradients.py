"""Gradients at initialisation: the weight-gradient norm of every conv, input side to output."""
import torch
from torch import nn
from torch.nn import functional as F

from .. import i18n


def conv_grad_norms(net, images, labels):
    """The gradient of the loss on one batch (train mode, fp32) with respect to every conv on
    the main path (shortcut convs left out), in the order the input meets them: [(name, norm)].
    images: uint8 (N, 28, 28) as Fashion-MNIST holds them."""
    shortcuts = {id(m) for blk in net.modules() if getattr(blk, "shortcut", None) is not None
                 for m in blk.shortcut.modules()}
    convs = [(name, m) for name, m in net.named_modules()
             if isinstance(m, nn.Conv2d) and id(m) not in shortcuts]
    net.train()
    X = images.unsqueeze(1).float() / 255  # as the data loader feeds them
    loss = F.cross_entropy(net(X), labels)
    # Only the gradients are wanted, no training step: ask autograd for them directly.
    grads = torch.autograd.grad(loss, [m.weight for _, m in convs])
    return [(name, grad.norm().item()) for (name, _), grad in zip(convs, grads)]


def plot_grad_norms(norms_by_label, ax=None):
    """One line per network: gradient norm per conv layer, log scale (text in the i18n
    language)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    for label, norms in norms_by_label.items():
        ax.semilogy(range(1, len(norms) + 1), [v for _, v in norms], ".-", label=label)
    ax.set(xlabel=i18n.label("grad_xlabel"), ylabel=i18n.label("grad_ylabel"), title=i18n.label("grad_title"))
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return ax
