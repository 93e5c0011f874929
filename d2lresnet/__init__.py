"""d2lresnet: the backing module of the ResNet teaching notebooks (D2L, 残差网络)."""
from .blocks import Bottleneck, PreActResidual, ResNeXtBottleneck, Residual
from .model import (ARCHITECTURES, STAGE_WIDTHS, ResNet, architecture, count_layers,
                    count_parameters, display_name, resnet, resnet18, resnet34, resnet50,
                    resnet101, resnet152, resnet_block, resnext50_32x4d, stem)
from .shapes import (block_output_shape, conv_output_size, count_flops, format_trace, print_trace,
                     trace_leaves, trace_shapes)

__all__ = ["Residual", "Bottleneck", "ResNeXtBottleneck", "PreActResidual",
           "ARCHITECTURES", "STAGE_WIDTHS", "ResNet", "architecture", "resnet", "resnet18",
           "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "resnet_block",
           "stem", "display_name", "count_layers", "count_parameters",
           "block_output_shape", "conv_output_size", "count_flops", "format_trace",
           "print_trace", "trace_leaves", "trace_shapes"]
