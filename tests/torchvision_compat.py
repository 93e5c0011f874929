"""Copy a torchvision ResNet's weights into ours, to compare the two number for number.

Only the tests need this, so it lives here, not in the package."""


def load_torchvision_weights(net, torchvision_model):
    """Copy a torchvision ResNet's weights into ``net`` (built with torchvision_compat=True
    and the same depths, block, channels and classes)."""
    net.load_state_dict({our_name(net, key): value
                         for key, value in torchvision_model.state_dict().items()})
    return net


def our_name(net, key):
    # torchvision: conv1, bn1, layer1..layer4, fc.  Ours: 0 (b1), 1..4 (b2..b5), last (Linear).
    # Inside a block the names agree, but for the shortcut: torchvision's downsample.
    head, _, rest = key.partition(".")
    if head == "conv1":
        return "0.0." + rest
    if head == "bn1":
        return "0.1." + rest
    if head == "fc":
        return f"{len(net) - 1}.{rest}"
    if head.startswith("layer"):
        index, _, name = rest.partition(".")
        if name.startswith("downsample."):
            name = "shortcut." + name.removeprefix("downsample.")
        return f"{head.removeprefix('layer')}.{index}.{name}"
    raise KeyError(f"not a torchvision ResNet parameter: {key}")
