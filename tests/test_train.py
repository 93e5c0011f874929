import dataclasses
import json
import math
import re

import numpy as np
import pytest
import torch

from d2lresnet import PreActResidual, resnet, resnet18
from d2lresnet.data import load_data_fashion_mnist
from d2lresnet.presets import PRESETS, Preset, default_preset_name, get_preset
from d2lresnet import machine
from d2lresnet import train as train_module
from d2lresnet.machine import choose_precision
from d2lresnet.train import (Recipe, TrainingDiverged, evaluate_accuracy,
                             init_weights, predict, train)


def small_net():
    # One narrow block per stage: the trainer's logic, at a fraction of ResNet-18's cost.
    return resnet((1, 1), (8, 16))


@pytest.fixture(scope="module")
def tiny_data():
    return load_data_fashion_mnist(64, limit=256, test_limit=128, augment=True)


def test_training_learns_and_reports_like_the_book(tiny_data):
    torch.manual_seed(0)
    net = small_net()
    history = train(net, *tiny_data, num_epochs=4, lr=0.1, device="cpu", momentum=0.9,
                    progress=False)
    assert len(history.train_loss) == len(history.test_acc) == 4
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.train_acc[-1] > 0.3  # chance is 0.1
    assert history.test_acc[-1] == evaluate_accuracy(net, tiny_data[1], precision=history.precision)
    assert sum(history.examples) == 4 * 256 and history.examples_per_sec > 0
    first, second, third = history.summary().splitlines()
    assert re.fullmatch(r"loss \d+\.\d{3}, train acc \d\.\d{3}, test acc \d\.\d{3}", first)
    assert re.fullmatch(r"\d+\.\d examples/sec on cpu", second)
    assert "data loading included" in third


def test_init_none_keeps_the_nets_weights(tiny_data):
    # A zero-initialised pre-activation net: its branches end on a conv whose weights are 0,
    # which the book's Xavier init (the default) would overwrite. lr=0: training moves nothing,
    # so any change to a weight comes from init.
    def weights_before_and_after(**init):
        torch.manual_seed(0)
        net = resnet((1, 1), (8, 16), block=PreActResidual, zero_init_residual=True)
        before = {name: p.detach().clone() for name, p in net.named_parameters()}
        train(net, *tiny_data, num_epochs=1, lr=0.0, device="cpu", progress=False, **init)
        return before, dict(net.named_parameters())

    before, after = weights_before_and_after(init=None)
    assert all(torch.equal(after[name], value) for name, value in before.items())
    before, after = weights_before_and_after()
    assert not before["1.0.conv2.weight"].any()  # the zero branch ...
    assert after["1.0.conv2.weight"].any()  # ... that Xavier init replaced
    assert train.__kwdefaults__["init"] is init_weights


def test_on_batch_sees_every_step(tiny_data):
    seen = []
    history = train(small_net(), *tiny_data, num_epochs=2, lr=0.05, device="cpu",
                    progress=False, on_batch=lambda *args: seen.append(args))
    steps, losses, correct, sizes = zip(*seen)
    assert list(steps) == list(range(1, 2 * len(tiny_data[0]) + 1))
    assert sum(sizes) == sum(history.examples) == 2 * 256
    per_epoch = len(tiny_data[0])
    for epoch in range(2):
        batches = slice(epoch * per_epoch, (epoch + 1) * per_epoch)
        assert sum(correct[batches]) / 256 == pytest.approx(history.train_acc[epoch])
        mean_loss = sum(l * n for l, n in zip(losses[batches], sizes[batches])) / 256
        assert mean_loss == pytest.approx(history.train_loss[epoch])


def test_resume_gives_the_same_result_as_an_uninterrupted_run(tiny_data, tmp_path):
    recipe = dict(lr=0.1, device="cpu", precision="fp32", momentum=0.9, nesterov=True,
                  one_cycle=True, progress=False)
    torch.manual_seed(0)
    straight = small_net()
    full = train(straight, *tiny_data, num_epochs=3, **recipe)

    # Ctrl-C during epoch 2 of the same 3-epoch schedule, then resume in a fresh process' net.
    torch.manual_seed(0)
    part = train(small_net(), *_cut_after(tiny_data, epochs=1), num_epochs=3,
                 checkpoint=tmp_path / "ck.pt", **recipe)
    assert part.interrupted and len(part.test_acc) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]  # no temporary file left
    torch.load(tmp_path / "ck.pt", weights_only=True)  # loads with the safe loader

    resumed_net = small_net()
    resumed = train(resumed_net, *tiny_data, num_epochs=3, checkpoint=tmp_path / "ck.pt",
                    resume=True, **recipe)
    assert len(resumed.test_acc) == 3
    assert resumed.train_loss == pytest.approx(full.train_loss, rel=1e-4)
    assert resumed.test_acc == pytest.approx(full.test_acc, abs=1 / 128)
    for a, b in zip(straight.state_dict().values(), resumed_net.state_dict().values()):
        assert torch.allclose(a.float(), b.float(), atol=1e-4)


def _cut_after(data, epochs):
    """The same loaders, but Ctrl-C arrives when training asks for epoch `epochs` + 1."""
    train_iter, test_iter = data

    class Interrupting:
        def __init__(self):
            self.epoch = 0

        def __len__(self):
            return len(train_iter)

        def __iter__(self):
            if self.epoch >= epochs:
                raise KeyboardInterrupt
            train_iter.epoch = self.epoch
            return iter(train_iter)

    return Interrupting(), test_iter


def test_nan_loss_stops_with_advice():
    X = torch.full((8, 1, 28, 28), float("nan"))
    batches = [(X, torch.zeros(8, dtype=torch.int64))]
    with pytest.raises(TrainingDiverged, match="smaller"):
        train(small_net(), batches, batches, num_epochs=1, lr=0.1, device="cpu", progress=False)


def test_interrupt_without_checkpoint_returns_history(tiny_data):
    history = train(small_net(), *_cut_after(tiny_data, epochs=1), num_epochs=2, lr=0.05,
                    device="cpu", progress=False)
    assert history.interrupted and len(history.test_acc) == 1


def test_predict_returns_labels_predictions_and_probabilities(tiny_data):
    net = small_net()
    labels, predictions, probs = predict(net, tiny_data[1])
    assert labels.shape == predictions.shape == (128,)
    assert probs.shape == (128, 10) and torch.allclose(probs.sum(1), torch.ones(128), atol=1e-5)


@pytest.mark.parametrize("has_bf16, expected", [(True, "bf16"), (False, "fp32")])
def test_precision_choice(monkeypatch, has_bf16, expected):
    cpu = torch.device("cpu")
    monkeypatch.setattr(machine, "cpu_has_bf16", lambda: has_bf16)
    assert choose_precision(cpu, "auto") == expected  # bf16 only where the CPU has it
    assert choose_precision(cpu, "fp32") == "fp32" and choose_precision(cpu, "bf16") == "bf16"
    with pytest.raises(ValueError, match="precision"):
        choose_precision(cpu, "fp16")


def test_a_summary_of_a_run_with_no_finished_epoch_says_so(tiny_data):
    history = train(small_net(), *_cut_after(tiny_data, epochs=0), num_epochs=2, lr=0.05,
                    device="cpu", progress=False)
    assert history.interrupted and history.test_acc == []
    assert history.summary() == "no epoch finished (interrupted during epoch 1)"


@pytest.mark.parametrize("args, message", [
    (([], [], 1, 0.1), "train_iter holds no batch"),
    ((None, [], 1, 0.1), "test_iter holds no batch"),  # None: the tiny training data
    ((None, None, -1, 0.1), "num_epochs must be a whole number of at least 1, got -1"),
    ((None, None, 0, 0.1), "num_epochs must be a whole number of at least 1, got 0"),
    ((None, None, 2.5, 0.1), "num_epochs must be a whole number"),
    ((None, None, True, 0.1), "num_epochs must be a whole number"),
    ((None, None, 1, True), "lr must be a finite number"),
    ((None, None, 1, "0.1"), "lr must be a finite number"),
    ((None, None, 1, float("nan")), "lr must be a finite number"),
    ((None, None, 1, -0.1), "lr must be a finite number at least 0"),
])
def test_what_cannot_train_is_refused_in_one_line_before_any_step(tiny_data, args, message):
    train_iter, test_iter, num_epochs, lr = args
    net = small_net()
    before = [p.detach().clone() for p in net.parameters()]
    with pytest.raises(ValueError, match=re.escape(message)) as err:
        train(net, tiny_data[0] if train_iter is None else train_iter,
              tiny_data[1] if test_iter is None else test_iter, num_epochs, lr, device="cpu",
              init=None, progress=False)
    assert "\n" not in str(err.value)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_numpy_numbers_train_as_python_ones(tiny_data):
    runs = []
    for num_epochs, lr in [(1, 0.1), (np.int64(1), np.float32(0.1))]:
        torch.manual_seed(0)
        runs.append(train(small_net(), *tiny_data, num_epochs, lr, device="cpu",
                          precision="fp32", progress=False).train_loss)
    assert runs[0] == pytest.approx(runs[1], rel=1e-6)


def test_a_recipe_object_and_its_fields_as_keywords_train_alike(tiny_data):
    runs = []
    for options in [dict(recipe=Recipe(momentum=0.9, label_smoothing=0.1)),
                    dict(momentum=0.9, label_smoothing=0.1),
                    dict(recipe=get_preset("quick", momentum=0.9, label_smoothing=0.1,
                                           nesterov=False, weight_decay=0.0, one_cycle=False,
                                           whiten_stem=False))]:
        torch.manual_seed(0)
        runs.append(train(small_net(), *tiny_data, num_epochs=1, lr=0.1, device="cpu",
                          precision="fp32", progress=False, **options).train_loss)
    assert runs[0] == runs[1] == runs[2]
    with pytest.raises(TypeError, match="not both"):
        train(small_net(), *tiny_data, 1, 0.1, recipe=Recipe(), momentum=0.9)


def test_book_preset_is_the_notes_recipe():
    book = PRESETS["book"]
    assert (book.resize, book.num_epochs, book.lr, book.batch_size) == (96, 10, 0.05, 256)
    assert book.train_options() == {"momentum": 0.0, "nesterov": False, "weight_decay": 0.0,
                                    "one_cycle": False, "label_smoothing": 0.0,
                                    "test_flips": False, "warmup": 0.3,
                                    "zero_init_residual": False, "whiten_stem": False,
                                    "decay_norm_and_bias": True, "bn_bias_lr": 1.0,
                                    "lookahead": False}
    assert not book.augment and book.limit is None and not book.progressive


def test_preset_choice(monkeypatch):
    monkeypatch.setenv("D2LRESNET_PRESET", "smoke")
    assert default_preset_name() == "smoke" and get_preset().name == "smoke"
    assert get_preset("quick", num_epochs=1).num_epochs == 1
    with pytest.raises(ValueError, match="book, quick, best, smoke"):
        get_preset("fast")
    with pytest.raises(ValueError, match="epochs"):
        get_preset("book", epochs=3)


def test_test_time_flips_average_each_image_with_its_mirror(tiny_data):
    torch.manual_seed(0)
    net = small_net().eval()
    _, test_iter = tiny_data
    with torch.no_grad():
        X = torch.cat([X for X, _ in test_iter])
        labels = torch.cat([y for _, y in test_iter])
        averaged = net(X).softmax(1) + net(X.flip(-1)).softmax(1)
    expected = (averaged.argmax(1) == labels).float().mean().item()
    assert evaluate_accuracy(net, test_iter, flips=True) == pytest.approx(expected)
    # An untrained net is not mirror-symmetric, so the flips change some predictions.
    assert not torch.equal(predict(net, test_iter, flips=True)[2], predict(net, test_iter)[2])


def test_history_records_wall_time_and_flips_after_the_last_epoch(tiny_data):
    torch.manual_seed(0)
    history = train(small_net(), *tiny_data, num_epochs=2, lr=0.1, device="cpu",
                    progress=False, test_flips=True)
    assert len(history.wall_seconds) == 2 and 0 < history.wall_seconds[0] < history.wall_seconds[1]
    assert history.wall_seconds[1] >= sum(history.train_seconds)  # evaluation included
    assert len(history.test_acc_flips) == 1 and 0 <= history.test_acc_flips[0] <= 1
    assert not train(small_net(), *tiny_data, num_epochs=1, lr=0.1, device="cpu",
                     progress=False).test_acc_flips


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_progressive_sizes_leave_the_last_epochs_at_the_test_size(name):
    preset = PRESETS[name]
    assert len(preset.progressive) < preset.num_epochs
    assert all(side < (preset.resize or 28) for side in preset.progressive)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_a_preset_read_back_from_json_is_the_same_preset(name):
    # A saved run's recipe (frontier.json) comes back with lists where the preset had tuples.
    preset = PRESETS[name]
    assert Preset(**json.loads(json.dumps(dataclasses.asdict(preset)))) == preset


def test_progress_false_shows_nothing_even_in_a_notebook(tiny_data, monkeypatch, capsys):
    # Notebook 06 trains twelve twins with progress=False: in JupyterLab each drew its own
    # live plot before, twelve figures nobody asked for.
    import IPython.display
    from d2lresnet.drawing import plots
    shown = []
    monkeypatch.setattr(plots, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: shown.append(a))
    train(small_net(), *tiny_data, num_epochs=1, lr=0.1, device="cpu", progress=False)
    assert shown == [] and capsys.readouterr().out == ""
    train(small_net(), *tiny_data, num_epochs=1, lr=0.1, device="cpu")  # progress: the plot
    assert shown
