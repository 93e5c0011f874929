"""zero_init_() makes a block exactly its shortcut, also on a block that has been trained.

A fresh BatchNorm has beta = 0, so zeroing only its scale gamma looks right on a new block; a
trained block has beta != 0, and the branch would then output beta instead of 0. Here every
block is "trained" first (all BatchNorm parameters and running statistics moved away from their
defaults), then zero_init_() must give relu(shortcut(x)) (x for the pre-activation block), bit
for bit, in train and in eval mode.
"""
import pytest
import torch
from torch import nn

from d2lresnet import Bottleneck, PreActResidual, Residual


def pretend_trained(block):
    """Move every parameter and BatchNorm statistic away from its initial value, as training
    would: in particular beta != 0 and gamma != 1."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for parameter in block.parameters():
            parameter.add_(torch.randn(parameter.shape, generator=generator))
        for module in block.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.normal_(generator=generator)
                module.running_var.uniform_(0.5, 2.0, generator=generator)
    return block


BLOCKS = {
    "Residual": (lambda: Residual(6, 6), 6, True),
    "Residual, 1x1 conv, stride 2": (lambda: Residual(4, 6, use_1x1conv=True, strides=2), 4, True),
    "Residual, torchvision's conventions": (
        lambda: Residual(4, 6, use_1x1conv=True, strides=2, bias=False, shortcut_bn=True), 4, True),
    "Bottleneck": (lambda: Bottleneck(8, 2), 8, True),
    "Bottleneck, 1x1 conv, stride 2": (lambda: Bottleneck(4, 2, use_1x1conv=True, strides=2),
                                       4, True),
    "PreActResidual": (lambda: PreActResidual(6, 6), 6, False),
    "PreActResidual, 1x1 conv, stride 2": (
        lambda: PreActResidual(4, 6, use_1x1conv=True, strides=2), 4, False),
}


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("name", BLOCKS)
def test_zero_init_of_a_trained_block_is_exactly_its_shortcut(name, mode):
    make, channels, relu_after_sum = BLOCKS[name]
    torch.manual_seed(0)
    block = pretend_trained(make())
    shortcut = block.shortcut if block.shortcut is not None else nn.Identity()
    X = torch.randn(5, channels, 8, 8)

    def expected():
        with torch.no_grad():
            Y = shortcut.train(mode == "train")(X)
            return torch.relu(Y) if relu_after_sum else Y

    with torch.no_grad():
        assert not torch.equal(block.train(mode == "train")(X), expected())  # trained: not yet
        block.zero_init_()
        assert torch.equal(block.train(mode == "train")(X), expected())


def test_zero_init_zeroes_the_last_batchnorm_shift_not_only_its_scale():
    # The direct statement of what the identity needs: the branch's last affine map (BN's
    # gamma and beta) is zero, so it outputs 0 whatever its input.
    for block, last in [(Residual(3, 3), "bn2"), (Bottleneck(8, 2), "bn3")]:
        pretend_trained(block).zero_init_()
        bn = block.get_submodule(last)
        assert torch.count_nonzero(bn.weight) == 0 and torch.count_nonzero(bn.bias) == 0
    pre = pretend_trained(PreActResidual(3, 3)).zero_init_()
    assert torch.count_nonzero(pre.conv2.weight) == 0 and torch.count_nonzero(pre.conv2.bias) == 0


def test_zero_init_block_appended_to_a_trained_stack_keeps_its_function():
    # Growing a network: a zero-initialised block after a trained one (whose output is a ReLU's,
    # so non-negative) changes nothing, in train mode (batch statistics) as in eval mode.
    torch.manual_seed(0)
    trained = pretend_trained(Residual(4, 4))
    grown = nn.Sequential(trained, pretend_trained(Residual(4, 4)).zero_init_())
    X = torch.randn(6, 4, 5, 5)
    for train in (True, False):
        with torch.no_grad():
            assert torch.equal(grown.train(train)(X), trained.train(train)(X))
