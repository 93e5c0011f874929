"""ResNet assembled as in the notes (6.3): a stem (b1), four stages of residual blocks (b2..b5),
then global average pooling, Flatten and a Linear layer, all in one ``nn.Sequential``."""
from collections import OrderedDict

import torch
from torch import nn

from .blocks import Bottleneck, PreActResidual, ResNeXtBottleneck, Residual
from .checks import whole_number

__all__ = ["STAGE_WIDTHS", "ARCHITECTURES", "ResNet", "resnet", "architecture", "resnet18",
           "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "plain_cnn",
           "resnet_block", "stem", "display_name", "count_parameters", "count_layers",
           "check_input"]

STAGE_WIDTHS = (64, 128, 256, 512)
# The family of the paper's Table 1, listed the way torchvision lists it:
# name -> (block, blocks per stage).  Everything else about them is the same; so ResNeXt-50
# (32x4d) too, whose block splits ResNet-50's 3x3 conv into 32 groups.
ARCHITECTURES = {
    "resnet18": (Residual, (2, 2, 2, 2)),
    "resnet34": (Residual, (3, 4, 6, 3)),
    "resnet50": (Bottleneck, (3, 4, 6, 3)),
    "resnet101": (Bottleneck, (3, 4, 23, 3)),
    "resnet152": (Bottleneck, (3, 8, 36, 3)),
    "resnext50_32x4d": (ResNeXtBottleneck, (3, 4, 6, 3)),
}


def display_name(name):
    """The papers' way of writing a name: display_name("resnet50") == "ResNet-50",
    display_name("resnext50_32x4d") == "ResNeXt-50 (32x4d)"."""
    if name.startswith("resnext"):
        depth, groups_x_width = name.removeprefix("resnext").split("_")
        return f"ResNeXt-{depth} ({groups_x_width})"
    return "ResNet-" + name.removeprefix("resnet")


class ResNet(nn.Sequential):
    """``nn.Sequential(b1, b2, b3, b4, b5, pool, flatten, linear)`` that checks its input first,
    so a wrong shape fails with what was expected instead of a conv error deep inside."""

    def __init__(self, *layers, in_channels):
        super().__init__(*layers)
        self.in_channels = in_channels

    def forward(self, X):
        check_input(X, self.in_channels)
        return super().forward(X)

    def __getitem__(self, idx):
        # nn.Sequential builds a slice as type(self)(OrderedDict(...)), which has no in_channels;
        # a slice (net[1:5], net[:-1]) is part of the network: return it as a plain nn.Sequential.
        if isinstance(idx, slice):
            return nn.Sequential(OrderedDict(list(self._modules.items())[idx]))
        return super().__getitem__(idx)


def check_input(X, in_channels):
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor of images, got {type(X).__name__}")
    if X.dim() != 4:
        hint = " (one image? add a batch dimension: X.unsqueeze(0))" if X.dim() == 3 else ""
        raise ValueError(f"expected a 4-D batch shaped (batch, channels, height, width), "
                         f"got {X.dim()}-D shape {tuple(X.shape)}{hint}")
    if X.shape[1] != in_channels:
        raise ValueError(f"expected {in_channels} input channel(s), got {X.shape[1]} "
                         f"in shape {tuple(X.shape)}")
    if X.numel() == 0:
        raise ValueError(f"expected a non-empty batch, got shape {tuple(X.shape)}")


def stem(in_channels=1, bias=True):
    """b1: the same first layers as GoogLeNet, plus BatchNorm."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=bias),
        nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1))


def resnet_block(input_channels, num_channels, num_residuals, first_block=False,
                 block=Residual, **block_args):
    """One stage: its first block halves height and width (unless first_block) and changes
    the channels through the 1x1 conv; the rest keep the shape."""
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(block(input_channels, num_channels, use_1x1conv=True, strides=2,
                             **block_args))
        elif i == 0 and input_channels != num_channels * block.expansion:
            # Only when the first stage widens (the bottleneck's 64 -> 256): project, no stride.
            blk.append(block(input_channels, num_channels, use_1x1conv=True, **block_args))
        else:
            blk.append(block(num_channels * block.expansion, num_channels, **block_args))
    return blk


def resnet(stage_depths=ARCHITECTURES["resnet18"][1], stage_widths=STAGE_WIDTHS,
           block=Residual, in_channels=1, num_classes=10, torchvision_compat=False,
           zero_init_residual=False):
    """The general builder behind resnet18/34/50/101/152.

    torchvision_compat=True uses torchvision's conventions (no conv bias, BatchNorm after the
    1x1 shortcut); pass in_channels=3, num_classes=1000 as well to match its models exactly.
    zero_init_residual=True starts every block as the identity on its shortcut.
    """
    stage_depths, stage_widths = tuple(stage_depths), tuple(stage_widths)
    if not stage_depths or len(stage_depths) != len(stage_widths):
        raise ValueError(f"expected a depth and a width for each stage, at least one stage, got "
                         f"depths {stage_depths} and widths {stage_widths}")
    stage_depths = [whole_number("a stage depth", depth) for depth in stage_depths]
    stage_widths = [whole_number("a stage width", width) for width in stage_widths]
    in_channels = whole_number("in_channels", in_channels)
    num_classes = whole_number("num_classes", num_classes)
    block_args = dict(bias=not torchvision_compat, shortcut_bn=torchvision_compat)
    layers = [stem(in_channels, bias=not torchvision_compat)]
    channels = 64
    for i, (depth, width) in enumerate(zip(stage_depths, stage_widths)):
        layers.append(nn.Sequential(*resnet_block(channels, width, depth, first_block=(i == 0),
                                                  block=block, **block_args)))
        channels = width * block.expansion
    if block is PreActResidual:
        # Pre-activation blocks end on a conv; normalise and activate once before pooling.
        layers.append(nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU()))
    layers += [nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(channels, num_classes)]
    net = ResNet(*layers, in_channels=in_channels)
    return zero_init_residual_(net) if zero_init_residual else net


def zero_init_residual_(net):
    """Zero every residual branch's last BatchNorm (Residual.zero_init_): each block starts as
    the identity on its shortcut."""
    for module in net.modules():
        if hasattr(module, "zero_init_"):
            module.zero_init_()
    return net


def architecture(name, in_channels=1, num_classes=10, **kwargs):
    """A member of ARCHITECTURES by name, e.g. architecture("resnet50", in_channels=3)."""
    if name not in ARCHITECTURES:
        raise ValueError(f"no architecture named {name!r}; choose one of "
                         f"{', '.join(ARCHITECTURES)}")
    block, depths = ARCHITECTURES[name]
    return resnet(depths, STAGE_WIDTHS, block, in_channels, num_classes, **kwargs)


def resnet18(in_channels=1, num_classes=10, **kwargs):
    """The notes' ResNet-18: b1, b2..b5 with two residual blocks each, and the head."""
    return architecture("resnet18", in_channels, num_classes, **kwargs)


def resnet34(in_channels=1, num_classes=10, **kwargs):
    return architecture("resnet34", in_channels, num_classes, **kwargs)


def resnet50(in_channels=1, num_classes=10, **kwargs):
    return architecture("resnet50", in_channels, num_classes, **kwargs)


def resnet101(in_channels=1, num_classes=10, **kwargs):
    return architecture("resnet101", in_channels, num_classes, **kwargs)


def resnet152(in_channels=1, num_classes=10, **kwargs):
    return architecture("resnet152", in_channels, num_classes, **kwargs)


def resnext50_32x4d(in_channels=1, num_classes=10, **kwargs):
    """ResNet-50's stages with ResNeXt's block: 32 groups of 4 channels (per 64) in each 3x3."""
    return architecture("resnext50_32x4d", in_channels, num_classes, **kwargs)


def plain_cnn(in_channels=1, num_classes=10, widths=(16, 32, 64, 128, 256)):
    """fastbook's simple CNN (chapter 14, `get_model`), the net a ResNet is measured against:
    stride-2 3x3 conv-BN-ReLU layers, each halving height and width, then ResNet's head.
    No blocks and no shortcuts; five layers take 28x28 down to 1x1."""
    layers, channels = [], in_channels
    for width in widths:
        layers.append(nn.Sequential(
            nn.Conv2d(channels, width, kernel_size=3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width), nn.ReLU()))
        channels = width
    layers += [nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(channels, num_classes)]
    return nn.Sequential(*layers)


def count_parameters(net):
    """Trainable parameters (BatchNorm running statistics are buffers, not counted)."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


def count_layers(net):
    """The notes' way of counting depth: conv and linear layers on the main path, leaving out
    the 1x1 convs on the shortcuts (不包括恒等映射的1×1卷积层). Those are learned projections,
    with weights that train like any other, but they lie off the main path: a signal through one
    passes a single 1x1 conv instead of the block's two 3x3 convs, so they add no depth."""
    weighted = sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in net.modules())
    on_shortcuts = sum(isinstance(m, nn.Conv2d)
                       for blk in net.modules() if getattr(blk, "shortcut", None) is not None
                       for m in blk.shortcut.modules())
    return weighted - on_shortcuts

