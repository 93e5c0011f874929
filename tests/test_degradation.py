"""The degradation experiment on synthetic data: the trainer's path, run length by preset,
the saved numbers and figure, the command line."""
import pytest
import torch

from d2lresnet.cli import main
from d2lresnet.experiments.degradation import (RECIPE, RUNS, degradation_experiment, load_results,
                                   plot_degradation, run_config, save_results)
from d2lresnet.presets import PRESETS


def fake_data(count, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randint(0, 256, (count, 28, 28), dtype=torch.uint8, generator=g),
            torch.randint(0, 10, (count,), generator=g))


def test_run_length_follows_the_training_preset(monkeypatch):
    assert RUNS.keys() == PRESETS.keys()
    monkeypatch.setenv("D2LRESNET_PRESET", "smoke")
    assert run_config() == RUNS["smoke"]
    assert run_config("quick")["depths"] == (20, 56)
    assert run_config("smoke", epochs=1, depths=None) == {**RUNS["smoke"], "epochs": 1}
    with pytest.raises(ValueError, match="book, quick, best, smoke"):
        run_config("full")
    with pytest.raises(ValueError, match="6n\\+2"):
        run_config("smoke", depths=(8, 21))
    with pytest.raises(ValueError, match="no field"):
        run_config("smoke", lr=1.0)


def test_tiny_degradation_run(tmp_path):
    train, test = fake_data(96), fake_data(40, seed=1)
    results = degradation_experiment(*train, *test, depths=(8, 14), epochs=2, train_size=64,
                                     test_size=40, batch_size=32, log=None, device="cpu")
    for kind in ("plain", "residual"):
        assert sorted(results[kind]) == [8, 14]
        for history in results[kind].values():
            for key in ("train_err", "test_err"):
                assert len(history[key]) == 2
                assert all(0 <= e <= 1 for e in history[key])
            # two points per epoch (two batches), the last at the end of each epoch
            assert [x for x, _ in history["curve"]] == pytest.approx([0.5, 1.0, 1.5, 2.0])
            # each point is the error on its batch; an epoch's two make its training error
            errs = [e for _, e in history["curve"]]
            assert [(errs[0] + errs[1]) / 2, (errs[2] + errs[3]) / 2] == \
                pytest.approx(history["train_err"])
    config = results["config"]
    assert config["train_size"] == 64 and config["seconds"] > 0
    assert {k: config[k] for k in RECIPE} == RECIPE
    save_results(results, tmp_path / "fig.json")
    assert load_results(tmp_path / "fig.json")["plain"][8]["train_err"] == \
        results["plain"][8]["train_err"]
    fig = plot_degradation(results, tmp_path / "fig.png")
    assert (tmp_path / "fig.png").stat().st_size > 0
    assert [ax.get_title() for ax in fig.axes] == ["plain networks", "residual networks"]


def test_a_run_is_repeatable():
    # Seeded subset, seeded init (the twins share it), seeded batch order: the same numbers.
    train, test = fake_data(64), fake_data(16, seed=1)
    runs = [degradation_experiment(*train, *test, depths=(8,), epochs=1, train_size=48,
                                   test_size=16, batch_size=16, log=None, device="cpu",
                                   precision="fp32")
            for _ in range(2)]
    assert runs[0]["residual"][8]["curve"] == runs[1]["residual"][8]["curve"]
    assert runs[0]["plain"][8]["curve"] != runs[0]["residual"][8]["curve"]


def test_command_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["degradation", "--help"])
    assert exit_info.value.code == 0
    assert "--preset" in capsys.readouterr().out
    assert main(["degradation", "--preset", "smoke", "--depths", "21"]) == 1
    assert "6n+2" in capsys.readouterr().err
