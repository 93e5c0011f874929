"""The loss landscape around a trained network, as Li et al. (2018) draw it ("Visualizing the
Loss Landscape of Neural Nets"): the loss along a line, and over a plane, through the trained
weights w, in random directions scaled filter by filter to the weights themselves.

    d1, d2 = (filter_normalized_direction(net, seed) for seed in (0, 1))
    line = loss_surface(net, X, y, [d1], [alphas])             # loss at w + a d1
    plane = loss_surface(net, X, y, [d1, d2], [alphas, betas])  # loss at w + a d1 + b d2

A random direction means nothing across networks unless it is scaled: BatchNorm makes a
filter's output the same at any scale of its weights, so a step of fixed length moves a filter
of small weights far and one of large weights hardly at all. Filter normalisation gives every
filter of the direction the norm of the same filter in w; biases and BatchNorm's γ and β get no
direction, as in the paper's figures. The loss is taken in eval mode, as the paper's code does,
with the running statistics the network holds (calibrate them on the data first).
"""
import numpy as np
import torch
from torch.nn import functional as F

from .. import i18n
from ..presets import default_preset_name

# A fixed subset of training images and a coarse grid over [-1, 1] (the paper's range):
# smoke takes seconds; otherwise 4 nets x (9 x 9 + 17) points x 64 images, about 3 TFLOP for
# the 20- and 56-layer twins, at most 2 minutes on a 2-core CPU.
SETTINGS = {"smoke": dict(images=32, grid=5, line=9),
            "default": dict(images=64, grid=9, line=17)}


def settings(preset=None):
    """The landscape's size for a preset (default: default_preset_name())."""
    return SETTINGS["smoke" if (preset or default_preset_name()) == "smoke" else "default"]


def filter_normalized_direction(net, seed):
    """A random direction with one tensor per parameter of net: Gaussian, each filter (a conv's
    output channel, a linear layer's row) rescaled to the norm of the same filter in net;
    zero for parameters with one dimension (biases, BatchNorm's γ and β)."""
    generator = torch.Generator().manual_seed(seed)
    direction = []
    for p in net.parameters():
        if p.dim() <= 1:
            direction.append(torch.zeros_like(p))
            continue
        d = torch.randn(p.shape, generator=generator)
        scale = p.detach().flatten(1).norm(dim=1) / d.flatten(1).norm(dim=1)
        direction.append(d * scale.view(-1, *[1] * (p.dim() - 1)))
    return direction


@torch.no_grad()
def loss_surface(net, X, y, directions, coordinates, batch_size=256):
    """The mean cross-entropy loss of net on (X, y), eval mode, at w + sum_k c_k d_k for every
    combination of coordinates: one direction and its coordinates give a line (1D array), two a
    plane (2D array, rows along the second direction). net is left as it was."""
    net.eval()
    params = list(net.parameters())
    weights = [p.detach().clone() for p in params]
    grids = np.meshgrid(*coordinates[::-1], indexing="ij")[::-1]  # rows: the last direction
    losses = np.empty(grids[0].shape)
    try:
        for index in np.ndindex(losses.shape):
            for p, w, *ds in zip(params, weights, *directions):
                p.copy_(w)
                for d, grid in zip(ds, grids):
                    p.add_(d, alpha=float(grid[index]))
            losses[index] = sum(F.cross_entropy(net(chunk), labels, reduction="sum").item()
                                for chunk, labels in zip(X.split(batch_size),
                                                         y.split(batch_size))) / len(y)
    finally:
        for p, w in zip(params, weights):
            p.copy_(w)
    return losses


def roughness(surface):
    """How far a sampled loss is from a single valley, in decades of loss: along every grid
    line (a line: itself; a plane: each row and each column), how much log10(loss) goes up and
    down beyond one descent to the line's lowest point and one climb from it, averaged over the
    lines. 0 when every line falls and then rises, as on a bowl, at any steepness; a bump of
    height h on a line adds 2h."""
    f = np.log10(np.asarray(surface, dtype=float))
    lines = [f] if f.ndim == 1 else [*f, *f.T]
    extra = [np.abs(np.diff(g)).sum() - (g[0] - g.min()) - (g[-1] - g.min()) for g in lines]
    return float(np.mean(np.maximum(extra, 0)))  # 0, not -1e-16, for a valley


def plot_landscapes(lines, planes, line_steps, grid_steps):
    """The 1D lines of every network in one panel, then one contour panel per 2D slice, the
    loss on a log scale with the same levels in every panel; the trained weights at (0, 0).
    lines, planes: {label: losses}. Text in the i18n language."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 1 + len(planes), figsize=(3.2 * (1 + len(planes)), 3.2))
    for i, (label, line) in enumerate(lines.items()):
        axes[0].semilogy(line_steps, line, ".-", color=f"C{i}", label=label)
    axes[0].set(xlabel=i18n.label("landscape_step"), ylabel=i18n.label("landscape_loss"))
    axes[0].grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=7)
    low = min(np.log10(p).min() for p in planes.values())
    high = max(np.log10(p).max() for p in planes.values())
    levels = np.linspace(low, high, 16)
    for ax, (label, plane) in zip(axes[1:], planes.items()):
        ax.contour(grid_steps, grid_steps, np.log10(plane), levels=levels, cmap="viridis",
                   linewidths=1)
        ax.plot(0, 0, "k+")
        ax.set(title=label, xlabel=i18n.label("direction", k=1), aspect="equal")
        ax.set_yticks([] if ax is not axes[1] else [-1, 0, 1])
    axes[1].set_ylabel(i18n.label("direction", k=2))
    fig.tight_layout()
    return fig
