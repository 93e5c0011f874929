"""Going deeper: plain and residual 6n+2 networks (He et al. 2015, Sec. 4.2), the degradation
experiment, gradient norms at initialisation, and the ResNet family's size and cost.

Run the full degradation experiment (549 s measured on two CPU cores):

    python -m d2lresnet.deeper --full --out notebooks/figures/degradation.png
"""
import argparse
import json
import math
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from . import train
from .blocks import Bottleneck, PreActResidual, Residual
from .data import FashionMNISTBatches
from .model import ARCHITECTURES, STAGE_WIDTHS, ResNet, count_parameters, resnet
from .shapes import count_flops

# -----------------------------------------------------------------------------
# Plain and residual twins: 3x3 conv (16), three stages of n blocks (16/32/64 channels,
# strides 1/2/2), global average pooling, linear: 2 * 3n + 2 = 6n + 2 weighted layers.

CIFAR_WIDTHS = (16, 32, 64)


class PadShortcut(nn.Module):
    """The paper's option A: keep every other pixel and append zero channels. No parameters,
    so a residual net has exactly the parameters of its plain twin."""

    def __init__(self, extra_channels, stride):
        super().__init__()
        self.extra_channels, self.stride = extra_channels, stride

    def forward(self, X):
        X = X[:, :, ::self.stride, ::self.stride]
        return F.pad(X, (0, 0, 0, 0, 0, self.extra_channels))


class CifarBlock(Residual):
    """The notes' Residual block with the shortcut chosen by name:

    "pad"        identity; when the shape changes, subsample and zero-pad (option A)
    "projection" identity; when the shape changes, the notes' 1x1 conv (option B)
    None         no shortcut at all: the plain twin, the same layers with nothing added
    """

    def __init__(self, input_channels, num_channels, strides=1, shortcut="pad"):
        if shortcut not in ("pad", "projection", None):
            raise ValueError(f"shortcut must be 'pad', 'projection' or None, got {shortcut!r}")
        reshapes = strides != 1 or input_channels != num_channels
        # Build (and initialise) exactly what Residual builds, 1x1 conv included, whatever the
        # shortcut: every variant then draws the same random numbers, so with the same seed the
        # plain and residual twins start from the same weights.
        super().__init__(input_channels, num_channels, use_1x1conv=reshapes, strides=strides,
                         bias=False)
        for conv in (self.conv1, self.conv2, self.shortcut):
            if conv is not None:
                nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
        if shortcut == "pad" and reshapes:
            self.shortcut = PadShortcut(num_channels - input_channels, strides)
        elif shortcut is None:
            self.shortcut = None
        self.plain = shortcut is None

    def forward(self, X):
        if not self.plain:
            return super().forward(X)
        Y = F.relu(self.bn1(self.conv1(X)))
        return F.relu(self.bn2(self.conv2(Y)))

    def zero_init_(self):
        if self.plain:
            raise ValueError("a plain block has no shortcut: zeroing its last BatchNorm makes "
                             "it output zeros, not its input")
        return super().zero_init_()


def cifar_resnet(n, plain=False, shortcut="pad", in_channels=1, num_classes=10,
                 zero_init_residual=False):
    """The 6n+2-layer network of the paper's CIFAR-10 experiments (n=3: 20 layers, n=9: 56).
    plain=True gives its plain twin; shortcut="projection" uses the notes' 1x1 convs."""
    if n < 1:
        raise ValueError(f"n must be at least 1 (6n+2 layers), got {n}")
    shortcut = None if plain else shortcut
    stem = nn.Conv2d(in_channels, CIFAR_WIDTHS[0], kernel_size=3, padding=1, bias=False)
    nn.init.kaiming_normal_(stem.weight, mode="fan_out", nonlinearity="relu")
    layers = [nn.Sequential(stem, nn.BatchNorm2d(CIFAR_WIDTHS[0]), nn.ReLU())]
    channels = CIFAR_WIDTHS[0]
    for i, width in enumerate(CIFAR_WIDTHS):
        blocks = []
        for j in range(n):
            strides = 2 if (i > 0 and j == 0) else 1
            blocks.append(CifarBlock(channels, width, strides, shortcut))
            channels = width
        layers.append(nn.Sequential(*blocks))
    layers += [nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(channels, num_classes)]
    net = ResNet(*layers, in_channels=in_channels)
    if zero_init_residual:
        for module in net.modules():
            if isinstance(module, CifarBlock):
                module.zero_init_()
    return net


def depth_to_n(depth):
    if (depth - 2) % 6 or depth < 8:
        raise ValueError(f"a 6n+2 network has 8, 14, 20, 26, ... layers, got {depth}")
    return (depth - 2) // 6


# -----------------------------------------------------------------------------
# Training on images held in memory: uint8 (N, 28, 28) and int64 labels, from any loader.

def _to_input(images):
    # uint8 (N, 28, 28) -> float (N, 1, 28, 28) in [0, 1], channels_last like the weights.
    X = images.unsqueeze(1).float().div_(255)
    return X.contiguous(memory_format=torch.channels_last)


def _autocast():
    # The trainer's choice: bf16 only where the CPU has bf16 instructions (else it is emulated).
    cpu = torch.device("cpu")
    return train._autocast(cpu, train.choose_precision(cpu))


# -----------------------------------------------------------------------------
# The degradation experiment: same recipe, plain vs residual, several depths.

# FULL took 549 s on 2 idle Zen 4 cores (bf16, channels_last, batch 128): 73 s for each
# 20-layer net, about 200 s for each 56-layer net, evaluation included.
FULL = dict(depths=(20, 56), epochs=6, train_size=15_000, test_size=2_000, batch_size=128)
TINY = dict(depths=(8, 14), epochs=2, train_size=384, test_size=128, batch_size=64)


def train_one(net, images, labels, test_images, test_labels, epochs, batch_size=128, lr=0.1,
              momentum=0.9, weight_decay=1e-4, points_per_epoch=10, seed=0, log=None):
    """Train with SGD + momentum, a one-cycle learning rate (warm-up, then cosine decay),
    bf16 autocast and channels_last.
    Returns per-epoch training and test error, and a finer training-error curve."""
    generator = torch.Generator().manual_seed(seed)
    net = net.to(memory_format=torch.channels_last)
    steps_per_epoch = math.ceil(len(images) / batch_size)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum,
                                weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch, pct_start=0.15)
    history = dict(train_err=[], test_err=[], curve=[], seconds=0.0)
    # Where the finer curve takes a point: points_per_epoch evenly spaced steps per epoch.
    points = min(points_per_epoch, steps_per_epoch)
    checkpoints = {round(steps_per_epoch * (k + 1) / points) for k in range(points)}
    start = time.perf_counter()
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(images), generator=generator)
        wrong = seen = chunk_wrong = chunk_seen = 0
        for step, batch in enumerate(order.split(batch_size)):
            X, y = _to_input(images[batch]), labels[batch]
            with _autocast():
                logits = net(X)
                loss = F.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            batch_wrong = (logits.argmax(1) != y).sum().item()
            wrong, seen = wrong + batch_wrong, seen + len(y)
            chunk_wrong, chunk_seen = chunk_wrong + batch_wrong, chunk_seen + len(y)
            if step + 1 in checkpoints:
                history["curve"].append((epoch + (step + 1) / steps_per_epoch,
                                         chunk_wrong / chunk_seen))
                chunk_wrong = chunk_seen = 0
        history["train_err"].append(wrong / seen)
        history["test_err"].append(error_rate(net, test_images, test_labels))
        if log:
            log(f"epoch {epoch + 1}: train error {history['train_err'][-1]:.3f}, "
                f"test error {history['test_err'][-1]:.3f} ({time.perf_counter() - start:.0f} s)")
    history["seconds"] = time.perf_counter() - start
    return history


def error_rate(net, images, labels, batch_size=512):
    batches = FashionMNISTBatches(images, labels, batch_size)
    return 1 - train.evaluate_accuracy(net, batches, torch.device("cpu"),
                                       train.choose_precision(torch.device("cpu")))


def degradation_experiment(images, labels, test_images, test_labels, depths=FULL["depths"],
                           epochs=FULL["epochs"], train_size=FULL["train_size"],
                           test_size=FULL["test_size"], batch_size=FULL["batch_size"],
                           seed=0, log=print, **recipe):
    """Train plain and residual 6n+2 nets of each depth with the same recipe and data.
    Returns {"plain": {depth: history}, "residual": {depth: history}, "config": {...}}."""
    subset = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    images, labels = images[subset[:train_size]], labels[subset[:train_size]]
    test_images, test_labels = test_images[:test_size], test_labels[:test_size]
    results = dict(plain={}, residual={},
                   config=dict(depths=tuple(depths), epochs=epochs, train_size=len(images),
                               test_size=len(test_images), batch_size=batch_size,
                               threads=torch.get_num_threads(), **recipe))
    for depth in depths:
        for kind in ("plain", "residual"):
            torch.manual_seed(seed)  # the same seed: twins start from the same weights
            net = cifar_resnet(depth_to_n(depth), plain=(kind == "plain"))
            if log:
                log(f"{kind}-{depth}:")
            results[kind][depth] = train_one(net, images, labels, test_images, test_labels,
                                             epochs, batch_size, seed=seed, log=log, **recipe)
    return results


def plot_degradation(results, path=None, title_extra=""):
    """Training-error curves, plain left and residual right (the paper's Fig. 6 layout);
    thin lines training error during each epoch, dots the test error after it."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, kind in zip(axes, ("plain", "residual")):
        for i, (depth, history) in enumerate(sorted(results[kind].items())):
            color = f"C{i}"
            x, err = zip(*history["curve"])
            ax.plot(x, [100 * e for e in err], color=color, lw=1.2,
                    label=f"{kind}-{depth} train")
            epochs = range(1, len(history["test_err"]) + 1)
            ax.plot(epochs, [100 * e for e in history["test_err"]], "o--", color=color,
                    lw=0.8, ms=4, label=f"{kind}-{depth} test")
        ax.set(title=f"{kind} networks{title_extra}", xlabel="epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("error (%)")
    fig.tight_layout()
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    return fig


# -----------------------------------------------------------------------------
# Gradients at initialisation: the weight-gradient norm of every conv, input to output.

def conv_grad_norms(net, images, labels):
    """One batch forward and backward (train mode, fp32); returns [(name, norm)] for every
    conv on the main path (shortcut convs left out), in the order the input meets them."""
    net.train()
    net.zero_grad(set_to_none=True)
    F.cross_entropy(net(_to_input(images)), labels).backward()
    shortcuts = {id(m) for blk in net.modules() if getattr(blk, "shortcut", None) is not None
                 for m in blk.shortcut.modules()}
    return [(name, m.weight.grad.norm().item()) for name, m in net.named_modules()
            if isinstance(m, nn.Conv2d) and id(m) not in shortcuts]


def plot_grad_norms(norms_by_label, ax=None):
    """One line per network: gradient norm per conv layer, log scale."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    for label, norms in norms_by_label.items():
        ax.semilogy(range(1, len(norms) + 1), [v for _, v in norms], ".-", label=label)
    ax.set(xlabel="conv layer (input side to output side)", ylabel="weight-gradient norm",
           title="gradients at initialisation")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return ax


# -----------------------------------------------------------------------------
# The ResNet family from one builder: parameters and FLOPs.

FAMILY = {  # name: (stage depths, block)
    "ResNet-18": (ARCHITECTURES["resnet18"][1], Residual),
    "ResNet-34": (ARCHITECTURES["resnet34"][1], Residual),
    "ResNet-50": (ARCHITECTURES["resnet50"][1], Bottleneck),
    "ResNet-101": (ARCHITECTURES["resnet101"][1], Bottleneck),
    "ResNet-152": (ARCHITECTURES["resnet152"][1], Bottleneck),
    "PreAct-ResNet-18": (ARCHITECTURES["resnet18"][1], PreActResidual),
}


def family_member(name, **kwargs):
    depths, block = FAMILY[name]
    return resnet(depths, STAGE_WIDTHS, block, **kwargs)


def torchvision_parameters(name):
    """torchvision's parameter count for the model, or None where it has none (pre-activation)."""
    import torchvision

    builder = getattr(torchvision.models, name.lower().replace("-", ""), None)
    return None if name.startswith("PreAct") or builder is None else count_parameters(builder())


def family_table(names=("ResNet-18", "ResNet-34", "ResNet-50", "PreAct-ResNet-18"),
                 sizes=(96, 224)):
    """One row per model: parameters as the notes build it (1 channel, 10 classes), in
    torchvision's configuration (3 channels, 1000 classes, its conventions) and torchvision's
    own count; forward GFLOPs of one image at each size (notes' configuration)."""
    rows = []
    for name in names:
        ours = family_member(name)
        compat = family_member(name, in_channels=3, num_classes=1000, torchvision_compat=True)
        row = dict(model=name, params=count_parameters(ours),
                   params_tv_config=count_parameters(compat),
                   params_torchvision=torchvision_parameters(name))
        for size in sizes:
            row[f"gflops_{size}"] = count_flops(ours, (1, 1, size, size)) / 1e9
        rows.append(row)
    return rows


def format_table(rows):
    columns = list(rows[0])
    cells = [[_fmt(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)


def _fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# -----------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m d2lresnet.deeper",
        description="The degradation experiment: plain vs residual 6n+2 networks on "
                    "Fashion-MNIST, training error per epoch, figure side by side.")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--full", action="store_true",
                      help=f"the full run (about 9 minutes on 2 cores): {FULL}")
    mode.add_argument("--tiny", action="store_true", help=f"a seconds-long smoke run: {TINY}")
    parser.add_argument("--out", default="notebooks/figures/degradation.png",
                        help="where to save the figure (PNG)")
    parser.add_argument("--depths", type=int, nargs="+", help="override the depths (6n+2)")
    parser.add_argument("--epochs", type=int, help="override the number of epochs")
    parser.add_argument("--train-size", type=int, help="override the training subset size")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    config = dict(TINY if args.tiny else FULL)
    for key in ("depths", "epochs", "train_size"):
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    from .data import load_fashion_mnist

    train, test = load_fashion_mnist(True), load_fashion_mnist(False)
    start = time.perf_counter()
    results = degradation_experiment(*train, *test, **config)
    results["config"]["seconds"] = time.perf_counter() - start
    print(f"total {results['config']['seconds']:.0f} s on {torch.get_num_threads()} threads")
    plot_degradation(results, args.out)
    save_results(results, Path(args.out).with_suffix(".json"))
    print(f"saved {args.out} and its history {Path(args.out).with_suffix('.json')}")
    return results


def save_results(results, path):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(results, indent=1))


def load_results(path):
    """The history saved by the command line (JSON turns the depth keys into strings)."""
    results = json.loads(Path(path).read_text())
    for kind in ("plain", "residual"):
        results[kind] = {int(depth): h for depth, h in results[kind].items()}
    return results


if __name__ == "__main__":
    main()
