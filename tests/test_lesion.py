"""The lesion study (notebook 06b): BatchNorm statistics measured on the data, the blocks that
can be deleted, and a deletion that must change nothing (synthetic data: seconds)."""
import torch
from torch import nn

from d2lresnet.experiments.lesion import (as_batch, calibrate_batchnorm, keeps_shape,
                                          lesion_study, training_subset, units)
from d2lresnet.experiments.twins import CifarBlock, cifar_resnet


def fake_images(count, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randint(0, 256, (count, 28, 28), dtype=torch.uint8, generator=g),
            torch.randint(0, 10, (count,), generator=g))


def test_calibrated_statistics_are_the_datas():
    X = torch.randn(256, 3, 4, 4) * torch.tensor([1.0, 2.0, 5.0]).view(1, 3, 1, 1) + 7
    bn = nn.BatchNorm2d(3)
    bn.running_mean.fill_(100)  # stale statistics, to be replaced
    # 4 equal batches, averaged alike: their mean is the data's mean
    net = calibrate_batchnorm(nn.Sequential(bn), X, batch_size=64)
    assert not net.training and bn.momentum == 0.1  # eval mode, momentum given back
    torch.testing.assert_close(bn.running_mean, X.mean(dim=(0, 2, 3)), rtol=1e-5, atol=1e-5)
    # the average of the batches' (unbiased) variances: close to the data's variance
    torch.testing.assert_close(bn.running_var, X.var(dim=(0, 2, 3)), rtol=0.02, atol=0)


def test_only_blocks_that_keep_their_shape_can_be_deleted():
    net = cifar_resnet(2)
    blocks = [u for u in units(net) if isinstance(u, CifarBlock)]
    assert len(blocks) == 6
    # stage 1: both blocks; stages 2 and 3: the second block only (the first changes shape)
    assert [keeps_shape(b) for b in blocks] == [True, True, False, True, False, True]
    assert nn.Sequential(*units(net))(torch.rand(2, 1, 28, 28)).shape == (2, 10)


def test_deleting_a_block_whose_branch_is_zero_changes_nothing():
    torch.manual_seed(0)
    net = cifar_resnet(1)
    first_block = net[1][0]
    first_block.zero_init_()  # its branch outputs 0: the block passes relu(x) = x on
    before = {k: v.clone() for k, v in net.state_dict().items()}
    images, labels = fake_images(96)
    study = lesion_study(net, images[:64], images[64:], labels[64:], precision="fp32")
    assert len(study["lesioned"]) == 1  # n = 1: only stage 1's block keeps its shape
    assert study["lesioned"][0] == study["intact"]
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in before.items())  # untouched


def test_deleting_a_trained_looking_block_changes_the_output():
    torch.manual_seed(0)
    net = cifar_resnet(1, plain=True).eval()
    X = as_batch(fake_images(8)[0])
    lesioned = nn.Sequential(*[u for i, u in enumerate(units(net)) if i != 1])
    assert not torch.allclose(net(X), lesioned(X))


def test_the_training_subset_is_the_twins():
    # notebook 06's train_twin draws the same permutation
    subset = training_subset(100, seed=3, images=1000)
    expected = torch.randperm(1000, generator=torch.Generator().manual_seed(3))[:100]
    assert torch.equal(subset, expected)
