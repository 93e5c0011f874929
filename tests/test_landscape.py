"""Loss landscapes (notebook 06b): filter-normalised directions, the surface through the
weights, and the roughness measure (synthetic data: seconds)."""
import numpy as np
import torch
from torch.nn import functional as F

from d2lresnet.experiments.landscape import filter_normalized_direction, loss_surface, roughness
from d2lresnet.experiments.twins import cifar_resnet


def small_net():
    torch.manual_seed(0)
    return cifar_resnet(1).eval()


def test_each_filter_of_a_direction_has_the_norm_of_the_weights_filter():
    net = small_net()
    direction = filter_normalized_direction(net, seed=0)
    for p, d in zip(net.parameters(), direction):
        if p.dim() == 1:  # biases, BatchNorm's gamma and beta: no direction
            assert not d.any()
        else:
            torch.testing.assert_close(d.flatten(1).norm(dim=1), p.flatten(1).norm(dim=1))
    again = filter_normalized_direction(net, seed=0)
    other = filter_normalized_direction(net, seed=1)
    assert all(torch.equal(a, b) for a, b in zip(direction, again))
    assert not torch.equal(direction[0], other[0])


def test_the_surface_is_the_loss_at_the_moved_weights_and_leaves_the_net_alone():
    net = small_net()
    X, y = torch.rand(16, 1, 28, 28), torch.arange(16) % 10
    before = [p.clone() for p in net.parameters()]
    d1, d2 = filter_normalized_direction(net, 0), filter_normalized_direction(net, 1)
    alphas, betas = np.array([-0.5, 0.0, 0.5]), np.array([0.0, 0.25])
    plane = loss_surface(net, X, y, [d1, d2], [alphas, betas], batch_size=5)
    assert plane.shape == (2, 3)  # rows along the second direction
    assert all(torch.equal(p, b) for p, b in zip(net.parameters(), before))
    with torch.no_grad():
        assert np.isclose(plane[0, 1], F.cross_entropy(net(X), y).item(), rtol=1e-5)
        for p, a, b in zip(net.parameters(), d1, d2):
            p.add_(0.5 * a + 0.25 * b)
        assert np.isclose(plane[1, 2], F.cross_entropy(net(X), y).item(), rtol=1e-5)
    line = loss_surface(net, X, y, [d1], [alphas])
    assert line.shape == (3,)


def test_roughness_is_zero_on_a_valley_and_counts_a_bump_twice():
    x = np.linspace(-1, 1, 9)
    assert roughness(np.exp(x ** 2)) < 1e-12
    assert roughness(np.exp(20 * (x - 0.3) ** 2)) < 1e-12  # steep, off-centre: still a valley
    A, B = np.meshgrid(x, x)
    assert roughness(1 + A ** 2 + 3 * B ** 2) < 1e-12
    # in decades: down from 2 to 0, then up to 2 with a dip of 0.2 on the way
    bumpy = 10 ** np.array([2, 1, 0, 1, 0.8, 1.5, 2])
    assert np.isclose(roughness(bumpy), 2 * 0.2)
    assert roughness(1 + np.cos(6 * A) * np.cos(6 * B) / 2) > 0.1
