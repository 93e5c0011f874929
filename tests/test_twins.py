"""The plain and residual 6n+2 twins and their gradients at initialisation (synthetic data:
no dataset needed, seconds)."""
import itertools
import math

import pytest
import torch

from d2lresnet import i18n
from d2lresnet import PreActResidual, Residual, count_layers, count_parameters, resnet, trace_shapes
from d2lresnet.experiments.gradients import conv_grad_norms
from d2lresnet.experiments.twins import (CifarBlock, PadShortcut, cifar_resnet, depth_to_n,
                                         estimate_twins)


def fake_data(count, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randint(0, 256, (count, 28, 28), dtype=torch.uint8, generator=g),
            torch.randint(0, 10, (count,), generator=g))


@pytest.mark.parametrize("plain", [False, True])
@pytest.mark.parametrize("n", [1, 3])
def test_6n_plus_2_shapes_and_depth(n, plain):
    net = cifar_resnet(n, plain=plain)
    rows = trace_shapes(net, (2, 1, 28, 28))
    assert [tuple(r.shape) for r in rows[:4]] == [
        (2, 16, 28, 28), (2, 16, 28, 28), (2, 32, 14, 14), (2, 64, 7, 7)]
    assert tuple(rows[-1].shape) == (2, 10)
    assert count_layers(net) == 6 * n + 2
    assert net(torch.rand(3, 1, 28, 28)).shape == (3, 10)


def test_depth_to_n():
    assert [depth_to_n(d) for d in (8, 20, 56, 110)] == [1, 3, 9, 18]
    with pytest.raises(ValueError):
        depth_to_n(21)


def test_paper_table6_parameter_counts():
    # He et al. 2015, Table 6 (CIFAR-10, option A shortcuts): 0.27M, 0.46M, 0.66M, 0.85M, 1.7M.
    for depth, millions in [(20, 0.27), (32, 0.46), (44, 0.66), (56, 0.85), (110, 1.7)]:
        digits = 1 if depth == 110 else 2
        assert round(count_parameters(cifar_resnet(depth_to_n(depth))) / 1e6, digits) == millions


def test_twins_have_the_same_parameters_and_initial_weights():
    torch.manual_seed(0)
    residual = cifar_resnet(3)
    torch.manual_seed(0)
    plain = cifar_resnet(3, plain=True)
    torch.manual_seed(0)
    projection = cifar_resnet(3, shortcut="projection")
    # Option A (zero-padding) shortcuts have no parameters: the twins match exactly.
    assert count_parameters(residual) == count_parameters(plain)
    assert residual.state_dict().keys() == plain.state_dict().keys()
    assert all(torch.equal(v, plain.state_dict()[k]) for k, v in residual.state_dict().items())
    # Option B adds the two 1x1 projections (16->32, 32->64, no bias) and nothing else,
    # and the shared layers still start from the same weights.
    assert count_parameters(projection) - count_parameters(plain) == 16 * 32 + 32 * 64
    shared = projection.state_dict()
    assert all(torch.equal(v, shared[k]) for k, v in plain.state_dict().items())
    # Same weights, different function: the only difference is the addition.
    X = torch.rand(4, 1, 28, 28)
    assert not torch.allclose(residual.eval()(X), plain.eval()(X))


def test_zero_init_makes_residual_blocks_identity():
    X = torch.randn(2, 16, 8, 8)
    block = CifarBlock(16, 16).zero_init_().eval()
    torch.testing.assert_close(block(X), torch.relu(X))
    down = CifarBlock(16, 32, strides=2).zero_init_().eval()
    assert isinstance(down.shortcut, PadShortcut)
    expected = torch.cat([X[:, :, ::2, ::2], torch.zeros(2, 16, 4, 4)], dim=1)
    torch.testing.assert_close(down(X), torch.relu(expected))
    # A whole zero-initialised network passes its stem's output through every stage.
    net = cifar_resnet(2, zero_init_residual=True).eval()
    Y = net[0](torch.rand(1, 1, 28, 28))  # the stem's output, after its ReLU
    torch.testing.assert_close(net[1](Y), Y)


def test_plain_block_has_no_identity_to_fall_back_on():
    block = CifarBlock(16, 16, shortcut=None)
    assert block.shortcut is None
    with pytest.raises(ValueError, match="no shortcut"):
        block.zero_init_()
    with pytest.raises(ValueError, match="shortcut must be"):
        CifarBlock(16, 16, shortcut="identity")


def test_preact_block_is_exactly_identity_at_zero_init():
    X = torch.randn(2, 8, 6, 6)  # negative values too: nothing follows the addition
    torch.testing.assert_close(PreActResidual(8, 8).zero_init_().train()(X), X)
    # The notes' block ends on a ReLU, so its zero-init block is relu(x), not x.
    torch.testing.assert_close(Residual(8, 8).zero_init_().eval()(X), torch.relu(X))
    net = resnet(block=PreActResidual, zero_init_residual=True).eval()
    stage = net[1]  # b2: two identity-shortcut blocks
    Y = net[0](torch.rand(1, 1, 96, 96))
    torch.testing.assert_close(stage(Y), Y)
    assert count_layers(net) == 18
    assert net(torch.rand(2, 1, 96, 96)).shape == (2, 10)


def test_gradient_norms_at_init():
    images, labels = fake_data(32)
    norms = {}
    for plain in (True, False):
        torch.manual_seed(0)
        net = cifar_resnet(9, plain=plain)
        norms[plain] = [v for _, v in conv_grad_norms(net, images, labels)]
        assert all(p.grad is None for p in net.parameters())  # a probe, not a training step
    assert len(norms[True]) == len(norms[False]) == 6 * 9 + 1  # every conv but the shortcuts
    assert all(math.isfinite(v) and v > 0 for v in norms[True] + norms[False])

    def spread(v):  # how far apart the layers' gradients are, as a ratio
        return max(v) / min(v)

    assert spread(norms[True]) > 10 * spread(norms[False])


def test_gradient_norms_leave_out_projection_shortcuts():
    images, labels = fake_data(8)
    names = [name for name, _ in conv_grad_norms(cifar_resnet(1, shortcut="projection"),
                                                 images, labels)]
    assert len(names) == 6 + 1 and not any("shortcut" in name for name in names)


def fake_clock(tick):
    """A clock that moves by `tick` seconds each time it is read: every timed step lasts tick."""
    readings = itertools.count(step=tick)
    return lambda: next(readings)


def test_the_estimate_is_the_runs_steps_times_the_timed_step(capsys):
    i18n.set_language("en")
    # 65 images in batches of 32: 2 steps an epoch (the run's loader drops a last batch of
    # one), and one evaluation batch; 2 kinds x 2 depths x 2 seeds x 3 epochs of that.
    run = dict(depths=(8, 14), seeds=(0, 1), train_size=65, epochs=3, batch_size=32)
    torch.manual_seed(0)
    expected_draw = torch.rand(1)
    torch.manual_seed(0)
    seconds = estimate_twins(**run, device="cpu", precision="fp32", steps=1,
                             clock=fake_clock(10.0))
    assert seconds == 2 * 2 * 2 * 3 * (2 * 10.0 + 1 * 10.0)
    assert "about 12 minutes" in capsys.readouterr().out
    assert torch.equal(torch.rand(1), expected_draw)  # the run's random numbers are untouched
