"""The ResNet builder (notes 6.3): layout, parameter counts, torchvision parity, input checks."""
import re

import pytest
import torch
import torchvision
from torch import nn

import d2lresnet
from d2lresnet import (ARCHITECTURES, Residual, architecture, count_layers, count_parameters,
                       resnet, resnet18, resnet34, resnet50, resnet_block, resnext50_32x4d)
from torchvision_compat import load_torchvision_weights

BUILDERS = {"resnet18": resnet18, "resnet34": resnet34, "resnet50": resnet50,
            "resnext50_32x4d": resnext50_32x4d}
TV = dict(torchvision_compat=True, in_channels=3)


@pytest.mark.parametrize("make, expected", [
    (lambda: resnet18(), 11_178_378),  # the notes' network: 1 channel, 10 classes
    (lambda: resnet18(**TV, num_classes=1000), 11_689_512),
    (lambda: resnet18(**TV, num_classes=10), 11_181_642),
    (lambda: resnet34(**TV, num_classes=1000), 21_797_672),
    (lambda: resnet50(**TV, num_classes=1000), 25_557_032),
    (lambda: resnext50_32x4d(**TV, num_classes=1000), 25_028_904),  # torchvision's, built once
])
def test_parameter_counts(make, expected):
    assert count_parameters(make()) == expected


def _randomise_batchnorm(net, generator):
    # Fresh BatchNorm is nearly the identity in eval mode; make it matter for the comparison.
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            for t in (m.weight.data, m.running_var):
                t.copy_(0.5 + torch.rand(t.shape, generator=generator))
            for t in (m.bias.data, m.running_mean):
                t.copy_(0.1 * torch.randn(t.shape, generator=generator))


@pytest.mark.parametrize("name", BUILDERS)
def test_torchvision_parity(name):
    torch.manual_seed(0)
    theirs = getattr(torchvision.models, name)()
    _randomise_batchnorm(theirs, torch.Generator().manual_seed(1))
    theirs.eval()
    ours = BUILDERS[name](**TV, num_classes=1000)
    X = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = theirs(X)
        assert not torch.allclose(ours.eval()(X), expected, atol=1e-5, rtol=0)
        load_torchvision_weights(ours, theirs)
        torch.testing.assert_close(ours(X), expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_every_architecture_has_its_layers_and_torchvisions_parameters(name):
    with torch.device("meta"):  # shapes only: even ResNet-152 costs nothing to build
        ours = architecture(name, **TV, num_classes=1000)
        depth = int(re.match(r"resne(t|xt)(\d+)", name).group(2))  # resnext50_32x4d: 50
        assert count_layers(architecture(name)) == depth
    weights = torchvision.models.get_model_weights(name)  # our names are torchvision's
    assert count_parameters(ours) == weights.DEFAULT.meta["num_params"]
    assert getattr(d2lresnet, name)  # every entry has its builder, resnet18 ... resnext50_32x4d


def test_test_helpers_are_not_part_of_the_package():
    assert not hasattr(d2lresnet, "load_torchvision_weights")


def test_top_level_layers_in_the_notes_order():
    net = resnet18()
    assert isinstance(net, nn.Sequential)
    names = [type(layer).__name__ for layer in net]
    assert names == ["Sequential"] * 5 + ["AdaptiveAvgPool2d", "Flatten", "Linear"]
    assert (net[-1].in_features, net[-1].out_features) == (512, 10)
    stem_conv = net[0][0]
    assert (stem_conv.in_channels, stem_conv.kernel_size, stem_conv.stride) == (1, (7, 7), (2, 2))


def test_slices_of_the_network_work_like_sequential():
    net = resnet18().eval()
    features = net[:-1]  # everything up to the classifier
    assert type(features) is nn.Sequential and len(net[1:5]) == 4
    with torch.no_grad():
        assert features(torch.rand(2, 1, 32, 32)).shape == (2, 512)


@pytest.mark.parametrize("first_block, in_ch, out_ch, stride", [
    (True, 64, 64, 1), (False, 64, 128, 2), (False, 256, 512, 2)])
def test_resnet_block_rules(first_block, in_ch, out_ch, stride):
    blk = resnet_block(in_ch, out_ch, 3, first_block=first_block)
    assert isinstance(blk, list) and len(blk) == 3
    assert all(isinstance(b, Residual) for b in blk)
    # Only the first block of a later stage strides and uses the 1x1 conv.
    assert blk[0].conv1.stride == (stride, stride)
    assert (blk[0].shortcut is not None) == (not first_block)
    assert all(b.shortcut is None and b.conv1.stride == (1, 1) for b in blk[1:])
    out = nn.Sequential(*blk).eval()(torch.rand(2, in_ch, 8, 8))
    assert out.shape == (2, out_ch, 8 // stride, 8 // stride)


@pytest.mark.parametrize("builder", [resnet18, resnet50])
def test_zero_init_residual_flag(builder):
    torch.manual_seed(0)
    net = builder(zero_init_residual=True).eval()
    blocks = [blk for stage in net[1:5] for blk in stage]
    assert len(blocks) == sum(len(stage) for stage in builder()[1:5]) > 0
    with torch.no_grad():
        for blk in blocks:  # each block starts as relu(shortcut(x))
            x = torch.randn(2, blk.conv1.in_channels, 4, 4)
            shortcut = blk.shortcut if blk.shortcut is not None else nn.Identity()
            assert torch.equal(blk(x), torch.relu(shortcut(x)))


@pytest.mark.parametrize("X, error, words", [
    (torch.rand(2, 3, 64, 64), ValueError, "1 input channel"),
    (torch.rand(1, 64, 64), ValueError, "unsqueeze"),
    (torch.rand(0, 1, 64, 64), ValueError, "non-empty"),
    ([[0.0]], TypeError, "torch.Tensor"),
])
def test_bad_input_says_what_was_expected(X, error, words):
    with pytest.raises(error, match=words):
        resnet18()(X)


def test_builder_rejects_mismatched_depths_and_widths():
    with pytest.raises(ValueError, match="depths"):
        resnet((2, 2, 2), (64, 128))


@pytest.mark.parametrize("args, kwargs, words", [
    (((), ()), {}, r"^expected a depth and a width for each stage, at least one stage"),
    (((1.5, 2, 2, 2),), {}, r"^a stage depth must be a whole number of at least 1, got 1\.5$"),
    (((2, 2, 0, 2),), {}, r"^a stage depth must be a whole number of at least 1, got 0$"),
    ((), dict(num_classes=0), r"^num_classes must be a whole number of at least 1, got 0$"),
    ((), dict(in_channels=True), r"^in_channels must be a whole number"),
])
def test_the_builder_refuses_impossible_networks_in_one_line(args, kwargs, words):
    with pytest.raises(ValueError, match=words):
        resnet(*args, **kwargs)


def test_the_builder_takes_numpy_integers():
    import numpy as np

    net = resnet(np.array([1, 1]), np.array([16, 32]), num_classes=np.int64(3))
    assert net(torch.rand(2, 1, 28, 28)).shape == (2, 3)
    assert type(net[-1].out_features) is int


def test_an_unknown_architecture_is_refused_with_the_names_there_are():
    with pytest.raises(ValueError, match="no architecture named 'resnet19'; choose one of "
                                         "resnet18, resnet34, resnet50"):
        architecture("resnet19")
