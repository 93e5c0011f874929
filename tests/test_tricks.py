"""The speed records' tricks (d2lresnet/tricks.py) do what their names say, through train()."""
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from d2lresnet import resnet18
from d2lresnet.data import FashionMNISTBatches, load_data_fashion_mnist
from d2lresnet.train import Recipe, make_optimizer, train
from d2lresnet.tricks import Lookahead, whiten_stem_


@pytest.fixture(scope="module")
def tiny_data():
    return load_data_fashion_mnist(32, limit=64, test_limit=32)


def _blocks(net):
    return [m for m in net.modules() if hasattr(m, "zero_init_")]


def test_zero_init_residual_makes_every_identity_block_start_as_its_shortcut(tiny_data):
    outputs = {}
    for zero in (False, True):
        net = resnet18()
        train(net, *tiny_data, num_epochs=1, lr=0.0, device="cpu", precision="fp32",
              progress=False, zero_init_residual=zero)  # lr 0: what train() started from
        block = _blocks(net)[0]  # b2's first block: same shape in and out, no 1x1 conv
        block.eval()
        x = torch.randn(2, 64, 8, 8)
        outputs[zero] = torch.equal(block(x), F.relu(x))
    assert outputs == {False: False, True: True}


def test_whitened_stem_decorrelates_the_patches_it_sees():
    torch.manual_seed(0)
    images = (torch.rand(64, 28, 28) * 255).to(torch.uint8)
    images[:, :, 1:] = images[:, :, :-1] // 2 + images[:, :, 1:] // 2  # neighbours correlate
    batches = FashionMNISTBatches(images, torch.zeros(64, dtype=torch.long), 16, shuffle=True)
    net = resnet18()
    whiten_stem_(net, batches)
    assert batches.epoch == 0  # the shuffle it read is put back
    conv = net[0][0]
    patches = F.unfold(images[:, None].float() / 255, conv.kernel_size).transpose(1, 2)
    patches = patches.reshape(-1, patches.shape[-1]).double()
    patches -= patches.mean(dim=0)
    filters = conv.weight.detach().double().reshape(conv.out_channels, -1)[:24]
    responses = patches @ filters.T
    cov = responses.T @ responses / len(responses)
    off_diagonal = cov - torch.diag(cov.diag())
    assert off_diagonal.abs().max() < 0.05 * cov.diag().max()
    raw = patches.T @ patches / len(patches)  # the pixels themselves are far from it
    assert (raw - torch.diag(raw.diag())).abs().max() > 0.3 * raw.diag().max()


def test_norms_and_biases_can_go_without_decay_and_betas_learn_faster():
    net = resnet18()
    recipe = Recipe(weight_decay=5e-4, one_cycle=True, decay_norm_and_bias=False,
                    bn_bias_lr=10.0)
    optimizer, scheduler = make_optimizer(net, recipe, 0.1, total_steps=10)
    weights, norms, betas = optimizer.param_groups
    bn = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    assert {id(p) for p in betas["params"]} == {id(m.bias) for m in bn}
    assert all(p.ndim > 1 for p in weights["params"])
    assert (weights["weight_decay"], norms["weight_decay"], betas["weight_decay"]) == \
        (5e-4, 0.0, 0.0)
    assert len(weights["params"]) + len(norms["params"]) + len(betas["params"]) == \
        len(list(net.parameters()))
    for _ in range(4):  # the one-cycle schedule keeps the ratio at every step
        optimizer.step()
        scheduler.step()
        assert betas["lr"] == pytest.approx(10 * weights["lr"])


@pytest.mark.parametrize("warmup", [0.15, 0.3])
def test_one_cycle_peaks_after_the_warmup_share_of_the_steps(warmup):
    net = nn.Linear(2, 2)
    optimizer, scheduler = make_optimizer(net, Recipe(one_cycle=True, warmup=warmup), 0.1,
                                          total_steps=100)
    lrs = []
    for _ in range(100):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert abs(max(range(100), key=lrs.__getitem__) - warmup * 100) <= 1


def test_lookahead_pulls_back_toward_the_slow_weights_more_as_training_ends():
    net = nn.Linear(3, 1)
    look = Lookahead(net, total_steps=100)
    start = net.weight.detach().clone()
    pulled = []
    for step in (5, 100):
        with torch.no_grad():
            net.weight += 1.0  # what the optimizer did since the last sync
        slow_before = look.slow[0].clone()
        look.step(step)
        moved = (net.weight - slow_before).abs().max().item()
        pulled.append(moved)
        assert torch.equal(net.weight, look.slow[0])  # training goes on from the slow weights
    assert pulled[0] == pytest.approx(1.0, abs=1e-3)  # early: almost no pull
    assert pulled[1] == pytest.approx(1 - 0.95 ** 5, abs=1e-6)  # at the end: 0.77 stays back
    assert not torch.equal(net.weight, start)


def test_alternate_flips_mirror_each_image_in_exactly_one_of_two_epochs():
    images = torch.zeros(40, 28, 28, dtype=torch.uint8)
    images[:, 14, 4] = 255  # a dot near the left edge: on the right once mirrored
    batches = FashionMNISTBatches(images, torch.arange(40), 8, shuffle=True, augment=True,
                                  alternate_flips=True, seed=3)
    mirrored = []
    for _ in range(2):
        seen = {}
        for X, y in batches:
            column = X[:, 0].amax(dim=1).argmax(dim=1)
            seen.update({int(i): bool(c > 14) for i, c in zip(y, column)})
        mirrored.append(seen)
    assert all(mirrored[0][i] != mirrored[1][i] for i in range(40))
    assert 10 < sum(mirrored[0].values()) < 30  # a random half, not all or none
