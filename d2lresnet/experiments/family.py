"""The ResNet family of the paper's Table 1 (and ResNeXt-50), from one builder: size and cost of
each member, beside the figures torchvision publishes for its pretrained models."""
import torch

from .. import i18n
from ..model import ARCHITECTURES, architecture, count_layers, count_parameters, display_name
from ..shapes import count_flops

__all__ = ["torchvision_meta", "family_table", "format_family_table"]


def torchvision_meta(name):
    """torchvision's published metadata of its ImageNet weights for e.g. "resnet50" or
    "resnext50_32x4d" (our names are torchvision's): num_params, _ops (GMACs at 224x224),
    _metrics. The IMAGENET1K_V1 weights, trained by the original recipe for every member (newer
    V2 weights exist for some, trained differently). Nothing is downloaded: the metadata is part
    of torchvision."""
    import torchvision

    return torchvision.models.get_model_weights(name).IMAGENET1K_V1.meta


def family_table(names=tuple(ARCHITECTURES)):
    """One row (a dict) per member:

    block, depths       its entry in ARCHITECTURES: the block and the blocks per stage
    layers              the notes' count: convs and the linear layer, shortcut convs left out
    params              as the notes build it (1 input channel, 10 classes)
    params_tv_config    in torchvision's configuration (3 channels, 1000 classes, its conventions)
    params_torchvision  torchvision's own count, from its metadata
    gmacs_96            multiply-adds of one forward pass, notes' configuration, 96x96 input
    gmacs_224           the same in torchvision's configuration at 224x224
    gmacs_torchvision   torchvision's figure for that, from its metadata
    top1                torchvision's ImageNet top-1 accuracy (%) of its V1 weights

    The networks are built on the meta device: shapes only, so even ResNet-152 costs nothing.
    """
    rows = []
    for name in names:
        with torch.device("meta"):
            ours = architecture(name)
            tv_config = architecture(name, in_channels=3, num_classes=1000,
                                     torchvision_compat=True)
        meta = torchvision_meta(name)
        block, depths = ARCHITECTURES[name]
        rows.append(dict(
            model=display_name(name), block=block.__name__, depths=depths,
            layers=count_layers(ours),
            params=count_parameters(ours), params_tv_config=count_parameters(tv_config),
            params_torchvision=meta["num_params"],
            gmacs_96=count_flops(ours, (1, 1, 96, 96)) / 2e9,  # a multiply-add is 2 FLOPs
            gmacs_224=count_flops(tv_config, (1, 3, 224, 224)) / 2e9,
            gmacs_torchvision=meta["_ops"],
            top1=meta["_metrics"]["ImageNet-1K"]["acc@1"]))
    return rows


def format_family_table(rows, columns=None):
    """Rows of dicts as aligned text, one line per row; columns picks and orders the keys.
    Headers follow i18n.set_language (i18n key "col_" + column; a column without one keeps its
    name), aligned by display width (a Chinese character takes two columns)."""
    columns = columns or list(rows[0])
    messages = i18n.MESSAGES[i18n.get_language()]
    headers = [i18n.tr("col_" + c) if "col_" + c in messages else c for c in columns]
    cells = [[_format(row[c]) for c in columns] for row in rows]
    widths = [max(i18n.text_width(h), *(len(r[i]) for r in cells))
              for i, h in enumerate(headers)]
    lines = ["  ".join(i18n.pad(h, w, ">") for h, w in zip(headers, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)


def _format(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
