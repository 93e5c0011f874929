"""Growing a trained net (notebook 01): the four variants, their training curves, the figure."""
import matplotlib
import numpy as np
import pytest
import torch
from torch import nn

from d2lresnet import Residual, i18n
from d2lresnet.experiments.insertion import (VARIANTS, grow, insertion_curves, plot_insertion,
                                             settings, train, training_loss)

CHANNELS = 4


@pytest.fixture(autouse=True)
def one_thread():
    """Nets this small only lose time to a second thread (seconds on a busy 2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def small():
    """A small net whose BatchNorm layers hold statistics and weights as if trained."""
    torch.manual_seed(0)
    body = nn.Sequential(nn.Conv2d(1, CHANNELS, 3, padding=1), nn.BatchNorm2d(CHANNELS),
                         nn.ReLU(), Residual(CHANNELS, CHANNELS))
    head = nn.Sequential(nn.Flatten(), nn.Linear(CHANNELS * 8 * 8, 2))
    with torch.no_grad():
        for bn in (m for m in body.modules() if isinstance(m, nn.BatchNorm2d)):
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.5, 2)
            bn.weight.uniform_(0.5, 2)
            bn.bias.uniform_(-1, 1)
    return body, head


@pytest.fixture
def data():
    torch.manual_seed(1)
    X = torch.rand(48, 1, 8, 8)
    return X, (X[..., :4].mean((1, 2, 3)) > X[..., 4:].mean((1, 2, 3))).long()


def conv_layers(net):
    return [m for m in net.modules() if isinstance(m, nn.Conv2d)]


def parameters(net):
    return sum(p.numel() for p in net.parameters())


def test_zero_init_variant_computes_the_small_net_exactly_and_the_others_do_not(small, data):
    body, head = small
    X, _ = data
    nets = grow(body, head, CHANNELS, blocks=2, seed=0)
    with torch.no_grad():
        expected = nn.Sequential(body, head).eval()(X)
        outputs = {name: net.eval()(X) for name, net in nets.items()}
    assert torch.equal(outputs["control"], expected)
    assert torch.equal(outputs["zero_init"], expected)
    # At default init the new layers change the function: the jump at insertion.
    assert not torch.allclose(outputs["residual"], expected, atol=1e-3)
    assert not torch.allclose(outputs["plain"], expected, atol=1e-3)


def test_variants_append_the_same_conv_layers_and_parameters(small):
    body, head = small
    nets = grow(body, head, CHANNELS, blocks=3, seed=0)
    before = len(conv_layers(nn.Sequential(body, head)))
    added = {name: len(conv_layers(net)) - before for name, net in nets.items()}
    assert added == {"control": 0, "plain": 6, "residual": 6, "zero_init": 6}
    assert parameters(nets["plain"]) == parameters(nets["residual"]) == parameters(
        nets["zero_init"]) > parameters(nets["control"])
    # Residual and zero-init blocks are the same draw, but for the zeroed last BatchNorm.
    residual, zero_init = (list(nets[name].children())[1:4] for name in ("residual", "zero_init"))
    for block, zeroed in zip(residual, zero_init):
        assert torch.equal(block.conv1.weight, zeroed.conv1.weight)
        assert torch.equal(block.conv2.weight, zeroed.conv2.weight)
        assert not zeroed.bn2.weight.any() and not zeroed.bn2.bias.any()


def test_every_variant_trains_its_own_copy(small, data):
    body, head = small
    X, y = data
    weight = body[0].weight.detach().clone()
    nets = grow(body, head, CHANNELS, blocks=1, seed=0)
    train(nets["plain"], X, y, steps=3)
    assert torch.equal(body[0].weight, weight)  # the trained small net is untouched
    assert torch.equal(nets["control"][0][0].weight, weight)
    assert not torch.equal(nets["plain"][0][0].weight, weight)


def test_train_returns_the_loss_at_insertion_then_every_few_steps(small, data):
    body, head = small
    X, y = data
    nets = grow(body, head, CHANNELS, blocks=1, seed=0)
    at_insertion = training_loss(nets["control"], X, y)
    losses = train(nets["control"], X, y, steps=6, every=2)
    assert len(losses) == 4 and losses[0] == at_insertion
    assert losses[-1] == training_loss(nets["control"], X, y)
    # The same seed gives the same batches: two copies trained alike end alike.
    again = train(grow(body, head, CHANNELS, blocks=1, seed=0)["control"], X, y, steps=6, every=2)
    assert again == losses
    other = train(grow(body, head, CHANNELS, blocks=1, seed=0)["control"], X, y, steps=6,
                  seed=1, every=2)
    assert other[0] == losses[0] and other[1:] != losses[1:]


def test_insertion_curves_have_one_row_per_seed_and_start_where_the_function_says(small, data):
    body, head = small
    X, y = data
    curves = insertion_curves(body, head, X, y, CHANNELS, blocks=1, steps=4, seeds=(0, 1),
                              every=2)
    assert set(curves) == set(VARIANTS)
    assert all(losses.shape == (2, 3) for losses in curves.values())
    small_loss = training_loss(nn.Sequential(body, head), X, y)
    assert np.all(curves["control"][:, 0] == small_loss)
    assert np.all(curves["zero_init"][:, 0] == small_loss)
    assert np.all(curves["plain"][:, 0] != small_loss)
    # The new layers differ between seeds, so does the jump at insertion.
    assert curves["residual"][0, 0] != curves["residual"][1, 0]


def test_plot_draws_every_seed_and_labels_each_variant_once_in_the_language():
    matplotlib.use("Agg")
    curves = {name: np.full((3, 5), 0.5) + i for i, name in enumerate(VARIANTS)}
    ax = plot_insertion(curves, steps=8, blocks=2)
    assert len(ax.lines) == 12
    assert np.array_equal(ax.lines[0].get_xdata(), [0, 2, 4, 6, 8])
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["small net alone (control)", "4 plain layers", "2 residual blocks",
                      "2 residual blocks, zero_init_"]
    i18n.set_language("zh")
    try:
        ax = plot_insertion(curves, steps=8, blocks=2)
        if i18n.find_cjk_font():
            assert ax.get_xlabel() == "添加之后的步数"
    finally:
        i18n.set_language("en")


def test_smoke_settings_are_shorter_but_keep_three_seeds():
    smoke, default = settings("smoke"), settings("quick")
    assert len(smoke["seeds"]) >= 3 and smoke["steps"] < default["steps"]
    assert smoke["steps"] % smoke["every"] == 0 and default["steps"] % default["every"] == 0
