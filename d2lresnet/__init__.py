"""d2lresnet: the backing module of the ResNet teaching notebooks (D2L, 残差网络).

``from d2lresnet import Residual, resnet18, trace_shapes`` works as usual; each name is
imported from its module on first use, so importing the package itself is instant and does
nothing else (``python -m d2lresnet`` can then catch Ctrl-C from its very first second).
"""
import importlib

_WHERE = {
    "blocks": ["Residual", "Bottleneck", "ResNeXtBottleneck", "PreActResidual"],
    "model": ["ARCHITECTURES", "STAGE_WIDTHS", "ResNet", "architecture", "resnet", "resnet18",
              "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
              "resnet_block", "stem", "display_name", "count_layers", "count_parameters"],
    "shapes": ["block_output_shape", "conv_output_size", "count_flops", "format_trace",
               "print_trace", "trace_leaves", "trace_shapes"],
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}
__all__ = list(_MODULE_OF)


def __getattr__(name):
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'd2lresnet' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_MODULE_OF[name]}", __name__), name)
    globals()[name] = value  # once found, an ordinary attribute
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
