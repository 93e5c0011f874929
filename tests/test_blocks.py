"""The residual blocks (notes 6.2): shapes, the notes' defaults, identity init, clear errors."""
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from d2lresnet import Bottleneck, PreActResidual, ResNeXtBottleneck, Residual


@pytest.mark.parametrize("block, expected", [
    (lambda: Residual(3, 3), torch.Size([4, 3, 6, 6])),
    (lambda: Residual(3, 6, use_1x1conv=True, strides=2), torch.Size([4, 6, 3, 3])),
])
def test_notes_shape_checks(block, expected):
    X = torch.rand(4, 3, 6, 6)
    assert block()(X).shape == expected


def test_conv_bias_on_by_default_as_in_the_notes():
    blk = Residual(3, 6, use_1x1conv=True)
    assert all(conv.bias is not None for conv in (blk.conv1, blk.conv2, blk.shortcut))
    assert isinstance(blk.shortcut, nn.Conv2d)  # the notes' shortcut is a bare 1x1 conv


@pytest.mark.parametrize("make, channels, expected", [
    (lambda: Residual(5, 5), 5, F.relu),
    (lambda: Bottleneck(4 * 3, 3), 12, F.relu),
    (lambda: PreActResidual(5, 5), 5, lambda x: x),
])
@pytest.mark.parametrize("train", [True, False])
def test_zero_init_makes_the_block_its_shortcut(make, channels, expected, train):
    torch.manual_seed(0)
    x = torch.randn(3, channels, 5, 5)
    blk = make().train(train)
    with torch.no_grad():
        assert not torch.equal(blk(x), expected(x))  # a fresh block is not the identity ...
        assert torch.equal(blk.zero_init_()(x), expected(x))  # ... until zero_init_()


def test_channel_mismatch_without_1x1conv_is_refused_at_construction():
    with pytest.raises(ValueError, match="use_1x1conv"):
        Residual(3, 6)
    with pytest.raises(ValueError, match="use_1x1conv"):
        Bottleneck(64, 64)  # outputs 4 * 64 channels


@pytest.mark.parametrize("block", [Residual, PreActResidual])
def test_stride_without_1x1conv_is_refused_at_forward(block):
    blk = block(3, 3, strides=2)
    with pytest.raises(ValueError, match="use_1x1conv"):
        blk(torch.rand(4, 3, 6, 6))


@pytest.mark.parametrize("args, kwargs, in_shape, out_shape", [
    ((256, 64), {}, (2, 256, 8, 8), (2, 256, 8, 8)),
    ((64, 64), dict(use_1x1conv=True), (2, 64, 8, 8), (2, 256, 8, 8)),
    ((256, 128), dict(use_1x1conv=True, strides=2), (2, 256, 8, 8), (2, 512, 4, 4)),
    ((256, 128), dict(use_1x1conv=True, strides=2), (2, 256, 7, 7), (2, 512, 4, 4)),
])
def test_bottleneck_shapes(args, kwargs, in_shape, out_shape):
    blk = Bottleneck(*args, **kwargs).eval()
    assert blk(torch.rand(in_shape)).shape == out_shape


def test_resnext_block_groups_the_3x3_conv_as_torchvision_does():
    from torchvision.models.resnet import Bottleneck as TorchvisionBottleneck

    ours = ResNeXtBottleneck(256, 128, use_1x1conv=True, strides=2)  # 32 groups x 4 per 64
    theirs = TorchvisionBottleneck(256, 128, groups=32, base_width=4)
    assert (ours.conv2.groups, ours.conv2.in_channels) == (32, 256) == (theirs.conv2.groups,
                                                                         theirs.conv2.in_channels)
    assert ours(torch.rand(2, 256, 8, 8)).shape == (2, 512, 4, 4)
    # Grouping divides the 3x3 conv's weights by the number of groups.
    plain = Bottleneck(256, 128, use_1x1conv=True, strides=2, width_per_group=128)  # 1 group
    assert plain.conv2.in_channels == ours.conv2.in_channels  # of the same 256 channels
    assert plain.conv2.weight.numel() == 32 * ours.conv2.weight.numel()
    assert Bottleneck(256, 64).conv2.in_channels == 64  # the defaults: ResNet's bottleneck
    with pytest.raises(ValueError, match="^groups must be"):
        Bottleneck(256, 64, groups=0)


@pytest.mark.parametrize("block", [Residual, Bottleneck, PreActResidual])
@pytest.mark.parametrize("kwargs, name", [
    (dict(input_channels=0, num_channels=4), "input_channels"),
    (dict(input_channels=4, num_channels=-4), "num_channels"),
    (dict(input_channels=4, num_channels=4.5), "num_channels"),
    (dict(input_channels="4", num_channels=4), "input_channels"),
    (dict(input_channels=True, num_channels=4), "input_channels"),
    (dict(input_channels=4, num_channels=4, strides=0), "strides"),
    (dict(input_channels=4, num_channels=4, strides=1.5), "strides"),
    (dict(input_channels=4, num_channels=4, use_1x1conv="no"), "use_1x1conv"),
    (dict(input_channels=4, num_channels=4, use_1x1conv=None), "use_1x1conv"),
])
def test_impossible_blocks_are_refused_at_construction(block, kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} must be"):
        block(**kwargs)


def test_builders_refuse_impossible_channels_at_construction():
    from d2lresnet import resnet
    from d2lresnet.model import resnet_block

    with pytest.raises(ValueError, match="num_channels must be a whole number"):
        resnet_block(64, 0, 2)
    with pytest.raises(ValueError, match="num_channels must be a whole number"):
        resnet_block(64, 128.0, 2)
    with pytest.raises(ValueError, match="a stage width must be a whole number"):
        resnet(stage_depths=(1, 1), stage_widths=(64, 96.5))


def test_whole_numbers_of_any_integer_type_are_accepted():
    import numpy as np

    blk = Residual(np.int64(3), 6, use_1x1conv=np.bool_(True), strides=np.int64(2))
    assert blk(torch.rand(2, 3, 6, 6)).shape == (2, 6, 3, 3)


@pytest.mark.parametrize("make", [
    lambda: Bottleneck(64, 8, use_1x1conv=True, groups=32, width_per_group=4),
    lambda: ResNeXtBottleneck(64, 8),
    lambda: ResNeXtBottleneck(64, 15, use_1x1conv=True),
])
def test_a_bottleneck_with_no_inner_channel_is_refused_at_construction(make):
    # int(8 * 4 / 64) * 32 == 0: PyTorch would build a 0-channel conv and fail in forward.
    with pytest.raises(ValueError, match="inner width .* is 0 .* at least 16$"):
        make()


def test_the_smallest_resnext_bottleneck_builds_and_runs():
    blk = ResNeXtBottleneck(64, 16, use_1x1conv=True)  # int(16 * 4 / 64) * 32 == 32 channels
    assert blk.conv2.in_channels == 32
    assert blk(torch.rand(2, 64, 4, 4)).shape == (2, 64, 4, 4)


def test_forward_runs_the_notes_layers_in_their_order():
    # conv -> BN -> ReLU -> conv -> BN -> + x -> ReLU, read off forward hooks (each layer's
    # input is the previous layer's output), with torchvision's BasicBlock's two 3x3 convs.
    from torchvision.models.resnet import BasicBlock
    blk = Residual(3, 3)
    names = {module: name for name, module in blk.named_children()}
    calls = []  # (name, input, output) of each layer, in call order

    def record(module, inputs, output):
        calls.append((names[module], inputs[0].clone(), output.clone()))  # forward adds in place

    hooks = [module.register_forward_hook(record) for module in names]
    X = torch.rand(4, 3, 6, 6)
    with torch.no_grad():
        Y = blk(X)
    for hook in hooks:
        hook.remove()
    assert [name for name, _, _ in calls] == ["conv1", "bn1", "conv2", "bn2"]
    (_, conv1_in, conv1_out), (_, bn1_in, bn1_out), (_, conv2_in, conv2_out), \
        (_, bn2_in, bn2_out) = calls
    assert torch.equal(conv1_in, X) and torch.equal(bn1_in, conv1_out)
    assert torch.equal(conv2_in, F.relu(bn1_out))
    assert torch.equal(bn2_in, conv2_out)
    assert torch.equal(Y, F.relu(bn2_out + X))

    def hyperparameters(block):
        return [(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding)
                for conv in (block.conv1, block.conv2)]

    assert hyperparameters(blk) == hyperparameters(BasicBlock(3, 3))
