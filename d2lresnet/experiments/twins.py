"""Plain and residual twins: the 6n+2-layer networks of He et al. (2015), Sec. 4.2.

A 3x3 conv with 16 channels, three stages of n blocks (16/32/64 channels, strides 1/2/2),
global average pooling and a linear layer: 2 * 3n + 2 = 6n + 2 weighted layers. The residual
network and its plain twin have the same layers and, with the same seed, the same initial
weights; they differ only in whether each block adds its input.
"""
import time

import torch
from torch import nn
from torch.nn import functional as F

from ..blocks import Residual
from ..data import FashionMNISTBatches
from ..machine import announce, choose_precision, time_steps
from ..model import ResNet
from ..train import _autocast, _memory_format, train_step, try_gpu

WIDTHS = (16, 32, 64)


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

    def __init__(self, input_channels, num_channels, *, strides=1, shortcut="pad"):
        # Keywords after the channels: Residual's third argument is use_1x1conv, not strides.
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
    stem = nn.Conv2d(in_channels, WIDTHS[0], kernel_size=3, padding=1, bias=False)
    nn.init.kaiming_normal_(stem.weight, mode="fan_out", nonlinearity="relu")
    layers = [nn.Sequential(stem, nn.BatchNorm2d(WIDTHS[0]), nn.ReLU())]
    channels = WIDTHS[0]
    for i, width in enumerate(WIDTHS):
        blocks = []
        for j in range(n):
            strides = 2 if (i > 0 and j == 0) else 1
            blocks.append(CifarBlock(channels, width, strides=strides, shortcut=shortcut))
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
    """The n of a 6n+2-layer network: depth_to_n(56) == 9."""
    if (depth - 2) % 6 or depth < 8:
        raise ValueError(f"a 6n+2 network has 8, 14, 20, 26, ... layers, got {depth}")
    return (depth - 2) // 6


def estimate_twins(depths, seeds, train_size, epochs, batch_size, momentum=0.9, device=None,
                   precision="auto", *, steps=3, clock=time.perf_counter):
    """Seconds that degradation_experiment will take with this run's size (a run_config), on
    this machine, printed in the notebook's language before the long cell starts.

    Each twin of each depth is timed for a few steps at the run's batch size, on batches of
    random images as the run's loader makes them, on the device and in the precision train()
    picks; then per-step time x steps of the run (every seed, every epoch, with its one-batch
    evaluation). The global random state is left as it was."""
    device = torch.device(device) if device else try_gpu()
    precision = choose_precision(device, precision)
    with torch.random.fork_rng(devices=[]):
        images = torch.randint(0, 256, (train_size, 28, 28), dtype=torch.uint8)
        labels = torch.randint(0, 10, (train_size,))
        # the same loader as the run's: its length is the run's steps per epoch
        loader = FashionMNISTBatches(images, labels, batch_size, shuffle=True,
                                     drop_last_single=True)
        X, y = next(iter(loader))
        X, y = X.to(device, memory_format=_memory_format(device)), y.to(device)
        loss_fn = nn.CrossEntropyLoss()
        seconds = 0.0
        for depth in depths:
            for plain in (True, False):
                net = cifar_resnet(depth_to_n(depth), plain=plain)
                net.to(device, memory_format=_memory_format(device))
                optimizer = torch.optim.SGD(net.parameters(), lr=0.0, momentum=momentum)

                def training_step():
                    net.train()
                    train_step(net, X, y, loss_fn, optimizer, precision)

                def test_step():
                    net.eval()
                    with torch.no_grad(), _autocast(device, precision):
                        net(X)

                per_epoch = (len(loader) * time_steps(training_step, steps, clock)
                             + time_steps(test_step, steps, clock))
                seconds += len(seeds) * epochs * per_epoch
    return announce(seconds)
