"""without_shortcuts (notebook 06b): the plain network of the same layers and weights, and the
relative gradient norms (synthetic data: seconds)."""
import torch

from d2lresnet import count_parameters, resnet18
from d2lresnet.experiments.gradients import conv_grad_norms, without_shortcuts
from d2lresnet.experiments.twins import cifar_resnet


def fake_data(count, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randint(0, 256, (count, 28, 28), dtype=torch.uint8, generator=g),
            torch.randint(0, 10, (count,), generator=g))


def test_resnet18_without_shortcuts_loses_the_1x1_convs_and_nothing_else():
    net = resnet18()
    plain = without_shortcuts(net)
    projections = 64 * 128 + 128 + 128 * 256 + 256 + 256 * 512 + 512  # with biases
    assert count_parameters(plain) == count_parameters(net) - projections == 11_005_450
    weights = dict(net.named_parameters())
    assert all(torch.equal(p, weights[name]) for name, p in plain.named_parameters())
    assert not any(getattr(m, "shortcut", None) is not None for m in plain.modules())


def test_without_shortcuts_computes_the_plain_twin():
    # The CIFAR twins are built for this: with the same seed, the plain twin is the residual
    # net with nothing added.
    torch.manual_seed(0)
    residual = cifar_resnet(2)
    torch.manual_seed(0)
    plain = cifar_resnet(2, plain=True)
    X = torch.rand(4, 1, 28, 28)
    stripped = without_shortcuts(residual)
    torch.testing.assert_close(stripped(X), plain(X))
    assert not torch.allclose(stripped(X), residual(X))


def test_relative_norms_divide_by_the_weights():
    images, labels = fake_data(8)
    net = cifar_resnet(1)
    absolute = conv_grad_norms(net, images, labels)
    relative = conv_grad_norms(net, images, labels, relative=True)
    weights = dict(net.named_modules())
    for (name, a), (same, r) in zip(absolute, relative):
        assert name == same
        assert abs(r - a / weights[name].weight.norm().item()) <= 1e-5 * r
