"""How long a cell will take, said before it starts: timed steps, a fake clock, no real time."""
import itertools

import pytest
import torch

from d2lresnet import i18n, resnet18
from d2lresnet.data import FashionMNISTBatches
from d2lresnet.machine import format_duration, time_steps
from d2lresnet.train import estimate_training
from d2lresnet.presets import get_preset


def fake_clock(tick):
    """A clock that moves by `tick` seconds each time it is read: every timed step lasts tick."""
    readings = itertools.count(step=tick)
    return lambda: next(readings)


def test_time_steps_warms_up_then_takes_the_median():
    calls, durations = [], iter([100.0, 1.0, 5.0, 2.0])  # the first call (warm-up) is slow
    now = [0.0]

    def step():
        calls.append(1)
        now[0] += next(durations)

    assert time_steps(step, n=3, clock=lambda: now[0]) == 2.0
    assert len(calls) == 4
    with pytest.raises(ValueError, match="at least 1"):
        time_steps(step, n=0)


def _batches(n, batch_size, side=28):
    images = torch.randint(0, 255, (n, side, side), dtype=torch.uint8)
    return FashionMNISTBatches(images, torch.arange(n) % 10, batch_size)


def test_estimate_is_steps_times_the_timed_step(capsys):
    i18n.set_language("en")
    train_iter, test_iter = _batches(64, 16), _batches(32, 16)  # 4 and 2 batches
    preset = get_preset("smoke")  # 2 epochs
    net = resnet18()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    seconds = estimate_training(net, train_iter, test_iter, preset, "cpu", "fp32",
                                clock=fake_clock(30.0))
    assert seconds == 2 * (4 * 30.0 + 2 * 30.0)  # epochs x (train + test batches) x 30 s
    assert "about 6 minutes" in capsys.readouterr().out
    after = net.state_dict()  # timed on a copy: the student's net is untouched
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert train_iter.epoch == test_iter.epoch == 0  # and the run's shuffles are as they were


def test_a_loader_shorter_than_the_timed_steps_is_reused():
    seconds = estimate_training(resnet18(), _batches(8, 8), _batches(8, 8),
                                get_preset("smoke"), "cpu", "fp32", clock=fake_clock(1.0))
    assert seconds == 2 * (1 * 1.0 + 1 * 1.0)


def test_durations_read_in_the_notebooks_language():
    i18n.set_language("zh")
    try:
        assert format_duration(20) == "不到1分钟" and format_duration(14 * 60) == "约14分钟"
        assert format_duration(3 * 3600) == "约3.0小时"
    finally:
        i18n.set_language("en")
    assert format_duration(20) == "under a minute"
    assert format_duration(100 * 60) == "about 1.7 hours"
