"""Plain and residual twins: the 6n+2-layer networks of He et al. (2015), Sec. 4.2.

A 3x3 conv with 16 channels, three stages of n blocks (16/32/64 channels, strides 1/2/2),
global average pooling and a linear layer: 2 * 3n + 2 = 6n + 2 weighted layers. The residual
network and its plain twin have the same layers and, with the same seed, the same initial
weights; they differ only in whether each block adds its input.
"""
from torch import nn
from torch.nn import functional as F

from ..blocks import Residual
from ..model import ResNet

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
