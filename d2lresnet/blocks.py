"""Residual blocks: the notes' basic block (6.2), the bottleneck (and ResNeXt's grouped one), the
pre-activation block.

Every block takes ``(input_channels, num_channels, use_1x1conv=False, strides=1)`` as in the notes;
``bias`` and ``shortcut_bn`` switch on torchvision's conventions (conv bias off, BatchNorm after
the 1x1 shortcut) so weights can be copied from ``torchvision.models``.
"""
import math

from torch import nn
from torch.nn import functional as F

from . import i18n
from .checks import true_or_false, whole_number

__all__ = ["Residual", "Bottleneck", "ResNeXtBottleneck", "PreActResidual"]


def _check_arguments(input_channels, num_channels, use_1x1conv, strides, **more_whole_numbers):
    # Refuse here, in words, what PyTorch would accept now and fail on later, deep inside a
    # forward pass (a stride of 0, 2.5 channels), or quietly misread (use_1x1conv="no" is true).
    for name, value in [("input_channels", input_channels), ("num_channels", num_channels),
                        ("strides", strides), *more_whole_numbers.items()]:
        whole_number(name, value)
    true_or_false("use_1x1conv", use_1x1conv)


def _check_shortcut(input_channels, num_channels, use_1x1conv):
    # Without the 1x1 conv the input is added as it is; PyTorch would silently broadcast
    # a 1-channel input across all channels, so refuse the mismatch here, in words.
    if not use_1x1conv and input_channels != num_channels:
        raise ValueError(i18n.tr("error_channels", input_channels=input_channels,
                                 num_channels=num_channels))


def _shortcut(input_channels, out_channels, strides, bias, shortcut_bn):
    """The 1x1 convolution that brings the input to the output's shape (the notes' conv3);
    torchvision follows it with BatchNorm."""
    conv = nn.Conv2d(input_channels, out_channels, kernel_size=1, stride=strides, bias=bias)
    return nn.Sequential(conv, nn.BatchNorm2d(out_channels)) if shortcut_bn else conv


def _check_same_shape(Y, X, block_name):
    if Y.shape != X.shape:
        raise ValueError(i18n.tr("error_shapes", block=block_name, input_shape=tuple(X.shape),
                                 output_shape=tuple(Y.shape)))


class Residual(nn.Module):
    """The notes' residual block: two 3x3 convs with BN, the input added before the last ReLU."""

    expansion = 1  # output channels = num_channels * expansion

    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1,
                 bias=True, shortcut_bn=False):
        super().__init__()
        _check_arguments(input_channels, num_channels, use_1x1conv, strides)
        _check_shortcut(input_channels, num_channels, use_1x1conv)
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1,
                               stride=strides, bias=bias)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1, bias=bias)
        # The notes call the shortcut's 1x1 conv conv3; every block here calls it shortcut.
        self.shortcut = (_shortcut(input_channels, num_channels, strides, bias, shortcut_bn)
                         if use_1x1conv else None)
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.shortcut is not None:
            X = self.shortcut(X)
        _check_same_shape(Y, X, "Residual")
        Y += X
        return F.relu(Y)

    def zero_init_(self):
        """Make the residual branch output exactly 0, so the block computes relu(shortcut(x)).

        The branch ends on bn2, which outputs gamma * normalised + beta: both its weight gamma
        and its bias beta are zeroed (the notes: set the upper weighted layer's weight and bias
        to 0). Zeroing gamma alone leaves beta, which is not 0 in a trained block."""
        nn.init.zeros_(self.bn2.weight)
        nn.init.zeros_(self.bn2.bias)
        return self


class Bottleneck(nn.Module):
    """ResNet-50's block: 1x1 reduce, 3x3 (carrying the stride), 1x1 expand by 4.

    groups and width_per_group as in torchvision: the 3x3 conv is split into ``groups`` groups
    and the inner width is num_channels * width_per_group / 64 * groups (ResNeXt); the defaults,
    1 and 64, give ResNet's bottleneck with num_channels inside."""

    expansion = 4

    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1,
                 bias=True, shortcut_bn=False, groups=1, width_per_group=64):
        super().__init__()
        _check_arguments(input_channels, num_channels, use_1x1conv, strides, groups=groups,
                         width_per_group=width_per_group)
        out_channels = num_channels * self.expansion
        width = int(num_channels * (width_per_group / 64.0)) * groups  # torchvision's formula
        if width == 0:  # PyTorch would build a 0-channel conv and fail only in forward
            raise ValueError(
                f"{type(self).__name__}'s inner width int(num_channels * width_per_group / 64) "
                f"* groups is 0 for num_channels={num_channels}, width_per_group="
                f"{width_per_group}: num_channels must be at least "
                f"{math.ceil(64 / width_per_group)}")
        _check_shortcut(input_channels, out_channels, use_1x1conv)
        self.conv1 = nn.Conv2d(input_channels, width, kernel_size=1, bias=bias)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, kernel_size=3, padding=1, stride=strides,
                               groups=groups, bias=bias)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, kernel_size=1, bias=bias)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.shortcut = (_shortcut(input_channels, out_channels, strides, bias, shortcut_bn)
                         if use_1x1conv else None)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = F.relu(self.bn2(self.conv2(Y)))
        Y = self.bn3(self.conv3(Y))
        if self.shortcut is not None:
            X = self.shortcut(X)
        _check_same_shape(Y, X, "Bottleneck")
        Y += X
        return F.relu(Y)

    def zero_init_(self):
        """Make the residual branch output exactly 0, so the block computes relu(shortcut(x)):
        zero the weight gamma and the bias beta of bn3, the branch's last layer."""
        nn.init.zeros_(self.bn3.weight)
        nn.init.zeros_(self.bn3.bias)
        return self


class ResNeXtBottleneck(Bottleneck):
    """ResNeXt-50 (32x4d)'s block (Xie et al. 2017; D2L's "ResNeXt block"): the bottleneck with
    its 3x3 conv split into 32 groups, 4 channels each per 64 of num_channels."""

    def __init__(self, *args, groups=32, width_per_group=4, **kwargs):
        super().__init__(*args, groups=groups, width_per_group=width_per_group, **kwargs)


class PreActResidual(nn.Module):
    """He et al. (2016) "Identity Mappings": BN and ReLU come before each conv, and nothing
    follows the addition, so the shortcut is a clean identity path through the whole network."""

    expansion = 1

    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1,
                 bias=True, shortcut_bn=False):
        super().__init__()
        _check_arguments(input_channels, num_channels, use_1x1conv, strides)
        _check_shortcut(input_channels, num_channels, use_1x1conv)
        self.bn1 = nn.BatchNorm2d(input_channels)
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1,
                               stride=strides, bias=bias)
        self.bn2 = nn.BatchNorm2d(num_channels)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1, bias=bias)
        self.shortcut = (_shortcut(input_channels, num_channels, strides, bias, shortcut_bn)
                         if use_1x1conv else None)

    def forward(self, X):
        Y = self.conv1(F.relu(self.bn1(X)))
        Y = self.conv2(F.relu(self.bn2(Y)))
        if self.shortcut is not None:
            X = self.shortcut(X)
        _check_same_shape(Y, X, "PreActResidual")
        return Y + X

    def zero_init_(self):
        """Make the residual branch output exactly 0, so the block computes shortcut(x) (x itself
        without the 1x1 conv): the branch ends on conv2, whose weight and bias are zeroed."""
        nn.init.zeros_(self.conv2.weight)
        if self.conv2.bias is not None:
            nn.init.zeros_(self.conv2.bias)
        return self
