"""The degradation experiment on synthetic data (the trainer's path, run size by preset, the
saved numbers and figure, the command line), and notebook 06's claims against the saved run."""
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from d2lresnet.cli import main
from d2lresnet import i18n
from d2lresnet.experiments.degradation import (RECIPE, degradation_experiment, load_results,
                                               plot_degradation, print_summary, run_config,
                                               save_results, summarize)
from d2lresnet.experiments.runs import load_runs
from d2lresnet.presets import PRESETS, Preset, TwinsRun, get_preset

PLATEAU = {name: dataclasses.asdict(preset.twins) for name, preset in PRESETS.items()}

SAVED = Path(__file__).parent.parent / "notebooks" / "figures" / "degradation.json"


def test_run_size_follows_the_training_preset(monkeypatch):
    # The size is part of the preset (Preset.twins), the same preset that sizes training.
    assert PLATEAU["best"] == PLATEAU["book"] == dataclasses.asdict(TwinsRun())
    assert PLATEAU["smoke"]["depths"] == (8, 20) and PLATEAU["quick"]["train_size"] == 1000
    monkeypatch.setenv("D2LRESNET_PRESET", "smoke")
    assert run_config() == PLATEAU["smoke"]
    assert run_config("quick")["depths"] == (20, 56)
    assert run_config("smoke", epochs=1, depths=None) == {**PLATEAU["smoke"], "epochs": 1}
    with pytest.raises(ValueError, match="book, quick, best, smoke"):
        run_config("full")
    with pytest.raises(ValueError, match="6n\\+2"):
        run_config("smoke", depths=(8, 21))
    with pytest.raises(ValueError, match="no field"):
        run_config("smoke", lr=1.0)


def test_the_twins_size_is_no_part_of_the_training_recipe(tmp_path):
    # Two presets that train ResNet-18 alike are equal whatever their twins run, so a saved
    # run or a checkpoint made before the field existed still matches today's recipe...
    book = PRESETS["book"]
    assert dataclasses.replace(book, twins=TwinsRun(epochs=1)) == book
    saved = load_runs(Path(__file__).parent.parent / "notebooks" / "figures" / "frontier.json")
    assert "twins" not in saved["book"]["recipe"] and Preset(**saved["book"]["recipe"]) == book
    # ...and one saved with it reads back whole, tuples and all.
    quick = get_preset("quick")
    as_json = json.loads(json.dumps(dataclasses.asdict(quick)))
    assert Preset(**as_json).twins == quick.twins == TwinsRun(train_size=1000, epochs=30,
                                                               batch_size=64)


def test_tiny_run_saved_and_drawn(tmp_path, fake_data):
    images, labels = fake_data(96)
    results = degradation_experiment(images, labels, depths=(8, 14), seeds=(0, 1),
                                     train_size=64, epochs=2, batch_size=32, log=None,
                                     device="cpu")
    for kind in ("plain", "residual"):
        assert sorted(results[kind]) == [8, 14]
        for runs in results[kind].values():
            assert len(runs) == 2  # one per seed
            for run in runs:
                assert len(run["loss"]) == len(run["err"]) == 2
                assert all(0 <= e <= 1 for e in run["err"]) and all(x > 0 for x in run["loss"])
    # seeds differ: another subset, other weights
    assert results["plain"][8][0]["loss"] != results["plain"][8][1]["loss"]
    config = results["config"]
    assert config["train_size"] == 64 and config["seeds"] == (0, 1) and config["seconds"] > 0
    assert {k: config[k] for k in RECIPE} == RECIPE
    save_results(results, tmp_path / "fig.json")
    assert load_results(tmp_path / "fig.json")["plain"][8][1]["loss"] == \
        results["plain"][8][1]["loss"]
    fig = plot_degradation(results, tmp_path / "fig.png")
    assert (tmp_path / "fig.png").stat().st_size > 0
    assert [ax.get_title() for ax in fig.axes] == ["plain networks", "residual networks"]
    assert [len(ax.lines) for ax in fig.axes] == [4, 4]  # 2 depths x 2 seeds


def test_a_run_is_repeatable(fake_data):
    # Seeded subset, seeded init (the twins share it), seeded batch order: the same numbers.
    images, labels = fake_data(64)
    runs = [degradation_experiment(images, labels, depths=(8,), seeds=(3,), train_size=48,
                                   epochs=1, batch_size=16, log=None, device="cpu")
            for _ in range(2)]
    same = ("loss", "err")  # not the seconds
    assert [{k: r[k] for k in same} for r in runs[0]["residual"][8]] == \
        [{k: r[k] for k in same} for r in runs[1]["residual"][8]]
    assert runs[0]["plain"][8][0]["loss"] != runs[0]["residual"][8][0]["loss"]


def test_command_line(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["degradation", "--help"])
    assert exit_info.value.code == 0
    assert "--preset" in capsys.readouterr().out
    assert main(["degradation", "--preset", "smoke", "--depths", "21"]) == 1
    assert "6n+2" in capsys.readouterr().err
    # output checked before any training (issue 27 item 2): a format, a folder, a file parent
    for out in (tmp_path / "d.json", tmp_path, Path("/etc/hostname/d.png")):
        assert main(["degradation", "--preset", "smoke", "--out", str(out)]) == 1
        assert "Traceback" not in capsys.readouterr().err
    assert not (tmp_path / "d.json").exists()


# Notebook 06's prose about the saved run, checked against its numbers ----------------------

def saved_losses(kind, depth):
    return np.array([run["loss"] for run in load_results(SAVED)[kind][depth]])


def test_saved_run_is_the_book_size_run_and_no_curve_is_flat():
    config = load_results(SAVED)["config"]
    assert {k: config[k] for k in ("train_size", "epochs", "batch_size")} == \
        {k: PLATEAU["book"][k] for k in ("train_size", "epochs", "batch_size")}
    assert config["depths"] == [20, 56] and len(config["seeds"]) >= 3
    assert {k: config.get(k, RECIPE[k]) for k in RECIPE} == RECIPE
    # "every loss still falls, by a tenth to a third over the last ten epochs (one
    # residual-56 tenfold)": the mean of the last ten epochs over the ten before
    trends = sorted(t for row in summarize(load_results(SAVED)).values() for t in row["trend"])
    assert trends[0] < 0.2 and all(0.65 < t < 0.92 for t in trends[1:])


def test_saved_run_shows_plain_degradation_on_every_seed_and_epoch():
    plain_20, plain_56 = saved_losses("plain", 20), saved_losses("plain", 56)
    assert (plain_56 > plain_20).all()
    assert (plain_56[:, -1] > 100 * plain_20[:, -1]).all()  # "hundreds of times higher"
    errors = load_results(SAVED)["plain"]
    assert all(run["err"][-1] == 0 for run in errors[20])  # plain-20 fits every image
    assert all(0.04 <= run["err"][-1] <= 0.10 for run in errors[56])  # "4 to 10 %"


def test_saved_run_residual_depth_costs_time_not_loss():
    rows = summarize(load_results(SAVED))
    for depth in (20, 56):
        assert all(err == 0 for err in rows["residual", depth]["err"])  # every image right
    ends = rows["residual", 20]["loss"] + rows["residual", 56]["loss"]
    assert (f"{min(ends):.1e}", f"{max(ends):.1e}") == ("8.6e-05", "2.6e-04")
    # below 1e-3: residual-56 "from about as long as residual-20 to more than twice as long"
    times = [b / a for a, b in zip(rows["residual", 20]["below"], rows["residual", 56]["below"])]
    assert min(times) < 1.2 and max(times) > 2
    # which one ends lower changes from seed to seed
    lower = [b < a for a, b in zip(rows["residual", 20]["loss"], rows["residual", 56]["loss"])]
    assert any(lower) and not all(lower)


def test_the_summary_says_what_the_curves_show(capsys):
    runs = {8: [dict(loss=[1.0] * 10 + [0.5] * 9 + [1e-4], err=[0.5] * 19 + [0.0]),
                dict(loss=[1.0] * 20, err=[0.25] * 20)]}
    rows = summarize(dict(plain=runs, residual={}))
    assert list(rows) == [("plain", 8)]
    row = rows["plain", 8]
    assert (row["below"], row["loss"], row["err"]) == ([20, None], [1e-4, 1.0], [0.0, 0.25])
    assert row["trend"] == pytest.approx([(4.5 + 1e-4) / 10, 1.0])
    assert summarize(dict(plain={8: [dict(loss=[1.0] * 19, err=[0.0] * 19)]}, residual={})
                     )["plain", 8]["trend"] == [None]  # under 20 epochs: no trend
    i18n.set_language("en")
    print_summary(dict(plain=runs, residual={}))
    header, row = capsys.readouterr().out.splitlines()
    assert header.split()[:2] == ["network", "loss"]
    assert row.split() == ["plain-8", "20,", "never", "1.0e-04", "–", "1.0e+00", "0.0", "%",
                           "–", "25.0", "%", "0.45", "–", "1.00"]


def test_a_short_run_has_plain_numbers_on_its_log_axis():
    # Less than a decade of loss (the smoke run): 1.4, 1.6, ... rather than 2x10^0 alone.
    runs = {depth: [dict(loss=[2.3 - 0.15 * epoch for epoch in range(6)])] for depth in (8, 20)}
    fig = plot_degradation(dict(plain=runs, residual=runs))
    fig.canvas.draw()
    axis = fig.axes[0].yaxis
    labels = [t.get_text() for t in axis.get_ticklabels() + axis.get_ticklabels(minor=True)]
    assert "2" in labels and "1.6" in labels and not any("$" in label for label in labels)
