"""d2lresnet: the backing module of the ResNet teaching notebooks (D2L, 残差网络)."""
from .blocks import Bottleneck, PreActResidual, Residual
from .model import (STAGE_DEPTHS, STAGE_WIDTHS, ResNet, count_layers, count_parameters,
                    load_torchvision_weights, resnet, resnet18, resnet34, resnet50, resnet_block,
                    stem)
from .shapes import (block_output_shape, conv_output_size, count_flops, format_trace, print_trace,
                     trace_leaves, trace_shapes)

import os as _os

if _os.environ.get("D2LRESNET_PRESENT") == "1":
    from . import plots as _plots  # importing it applies present(): big fonts for a room
