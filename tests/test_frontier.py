"""d2lresnet.experiments.frontier: time-to-accuracy per preset, measured and drawn (smoke preset here)."""
import json
import os
import re
import warnings
from pathlib import Path

import pytest
import torch

from d2lresnet import i18n

from d2lresnet.experiments import frontier
from d2lresnet.experiments.runs import book_flops
from d2lresnet.cli import main
from d2lresnet.model import resnet18
from d2lresnet.presets import Preset, get_preset
from d2lresnet.shapes import count_flops
from d2lresnet.machine import cpu_seconds, others_share

SAVED = Path(__file__).parent.parent / "notebooks" / "figures" / "frontier.json"


def fake_run(name, acc, flips=None):
    return {"preset": name, "about": "", "epochs": 2, "wall_seconds": [30.0, 61.0],
            "test_acc": [acc - 0.05, acc], "test_acc_flips": [flips] if flips else [],
            "train_loss": [1.0, 0.5], "train_acc": [0.8, 0.9], "device": "cpu",
            "precision": "fp32", "machine": "2 cores, test", "date": "2026-11-29"}


def test_a_measured_run_is_saved_beside_the_runs_already_there(tmp_path, capsys):
    out = tmp_path / "frontier.png"
    out.with_suffix(".json").write_text(json.dumps({"quick": fake_run("quick", 0.92, 0.93)}))
    runs = frontier.run(["smoke"], out)
    saved = json.loads(out.with_suffix(".json").read_text())
    assert saved.keys() == {"quick", "smoke"} and saved == runs
    smoke = saved["smoke"]
    assert Preset(**smoke["recipe"]) == get_preset("smoke")  # the recipe, read back whole
    assert smoke["epochs"] == len(smoke["test_acc"]) == len(smoke["wall_seconds"]) == 2
    assert 0 < smoke["wall_seconds"][0] < smoke["wall_seconds"][1]
    assert smoke["examples"] == [get_preset("smoke").limit] * 2  # every epoch, all of them
    # Unrounded: the compute step is part of each epoch's wall time on any CPU.
    epoch_walls = [b - a for a, b in zip([0] + smoke["wall_seconds"], smoke["wall_seconds"])]
    assert all(0 < c < w for c, w in zip(smoke["compute_seconds"], epoch_walls, strict=True))
    per_example = count_flops(resnet18(), (1, 1, 28, 28), backward=True)
    assert smoke["train_flops"] == [512 * per_example, 2 * 512 * per_example]
    assert "(" + torch.backends.cpu.get_cpu_capability() + ")" in smoke["machine"]
    assert out.stat().st_size > 10_000
    assert frontier.compute_figure_path(out).stat().st_size > 10_000
    counted = frontier.compute_runs(saved)  # the fake quick run has no recipe: left out
    assert counted.keys() == {"smoke"} and counted["smoke"]["book_compute_fraction"] == [
        spent / book_flops() for spent in smoke["train_flops"]]
    table = capsys.readouterr().out
    assert "| `quick` | 2 | 1.0 min | 0.920 | 0.930 |" in table
    assert f"| `smoke` | 2 | {smoke['wall_seconds'][-1] / 60:.1f} min | " in table


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_the_figure_has_a_point_per_epoch_and_draws_in_both_languages(language):
    runs = {"quick": fake_run("quick", 0.92, 0.93), "book": fake_run("book", 0.90)}
    i18n.set_language(language)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message="Glyph .* missing")
            fig = frontier.plot_frontier(runs)
            fig.canvas.draw()
    finally:
        i18n.set_language("en")
    ax = fig.axes[0]
    curves = [line for line in ax.lines if line.get_linestyle() == "-"]
    assert [list(line.get_ydata()) for line in curves] == [pytest.approx([0.87, 0.92]),
                                                            pytest.approx([0.85, 0.90])]
    assert list(curves[0].get_xdata()) == [0.5, 61 / 60]
    rings = [line for line in ax.lines if line.get_marker() == "o" and line.get_linestyle() == "None"]
    assert [(line.get_xdata(), line.get_ydata()) for line in rings] == [(61 / 60, 0.93)]
    assert ax.get_xscale() == "log"
    ax.set_xlim(50, 310)  # less than a decade, as the saved book run: minor ticks get labels
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() + ax.get_xticklabels(minor=True)]
    assert "100" in labels and "200" in labels  # plain minutes, not 2x10^2
    assert not any("$" in label for label in labels), labels
    if language == "en" or i18n.find_cjk_font():  # else zh figures fall back to English
        assert ax.get_xlabel() == i18n.MESSAGES[language]["wall_minutes"]


def test_the_compute_figure_draws_every_seed_of_each_recipe_and_the_goals(language):
    sweep = {"quick/0": dict(book_compute_fraction=[0.05, 0.1], test_acc=[0.90, 0.92]),
             "quick/1": dict(book_compute_fraction=[0.05, 0.1], test_acc=[0.89, 0.93]),
             "q32x4/0": dict(book_compute_fraction=[0.02], test_acc=[0.9]),  # not asked for
             "book/0": dict(book_compute_fraction=[0.5, 1.0], test_acc=[0.88, 0.92]),
             "quick/cpu": dict(book_compute_fraction=[0.05, 0.1], test_acc=[0.91, 0.925],
                               device="cpu")}
    i18n.set_language(language)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message="Glyph .* missing")
            fig = frontier.plot_compute(sweep, recipes=("book", "quick"))
            fig.canvas.draw()
    finally:
        i18n.set_language("en")
    ax = fig.axes[0]
    curves = [line for line in ax.lines if line.get_linestyle() == "-"]
    assert [list(line.get_ydata()) for line in curves] == [[0.88, 0.92], [0.90, 0.92],
                                                            [0.89, 0.93]]
    assert curves[1].get_color() == curves[2].get_color() != curves[0].get_color()
    [on_cpu] = [line for line in ax.lines  # dashed: trained on a CPU
                if line.get_linestyle() == "--" and line.get_marker() == "o"]
    assert list(on_cpu.get_ydata()) == [0.91, 0.925] and on_cpu.get_color() == curves[1].get_color()
    goals = [(line.get_xdata()[0], line.get_ydata()[0]) for line in ax.lines
             if line.get_marker() == "x"]
    assert goals == [(share, acc) for acc, share in frontier.COMPUTE_GOALS]
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend[:2] == ["book: 0.920, 1.000", "quick: 0.920–0.930, 0.100"]  # 1 run, 3 runs
    assert legend[2] == i18n.MESSAGES[language]["trained_on_cpu"]  # what the dashes mean
    assert len(legend) == 4 and "0.919" in legend[3]  # the notes' line, named in the legend


def test_the_compute_figure_shows_every_dot_and_can_leave_the_goals_out():
    runs = {"quick/0": dict(book_compute_fraction=[0.05, 0.1], test_acc=[0.80, 0.92])}
    ax = frontier.plot_compute(runs, recipes=("quick",), goals=()).axes[0]
    assert not [line for line in ax.lines if line.get_marker() == "x"]
    assert ax.get_ylim()[0] < 0.80  # the first epoch's dot is not cut off at the bottom


@pytest.fixture
def nothing_trains(monkeypatch):
    def measure(*args, **kwargs):
        raise AssertionError("trained before the check")
    monkeypatch.setattr(frontier, "measure", measure)


def test_an_unknown_preset_is_refused_before_anything_trains(tmp_path, nothing_trains):
    # frontier.run itself, past argparse's choices: the check the Python API relies on.
    with pytest.raises(ValueError, match="unknown preset 'fastest'"):
        frontier.run(["smoke", "fastest"], tmp_path / "f.png")
    assert list(tmp_path.iterdir()) == []


# Another command's file, or no runs at all: refused, naming the file (issue 35 item 2).
OTHER = "holds something else, not frontier's runs ({preset: run}): it would be overwritten"


@pytest.mark.parametrize("content, why", [
    ("[]", OTHER),
    ("not json", "does not hold saved runs: it is not JSON"),
    ('{"quick": 3}', OTHER),
    ('{"quick": {"preset": "quick"}}', "does not hold saved runs: its run 'quick' lacks epochs"),
])
def test_a_json_beside_out_that_is_not_runs_is_refused_before_training(
        tmp_path, nothing_trains, content, why):
    (tmp_path / "f.json").write_text(content)
    with pytest.raises(ValueError, match=re.escape(f"{tmp_path / 'f.json'} {why}")) as err:
        frontier.run(["smoke"], tmp_path / "f.png")
    assert "\n" not in str(err.value) and (tmp_path / "f.json").read_text() == content


def test_an_output_that_cannot_be_written_is_refused_before_training(tmp_path, nothing_trains):
    (tmp_path / "a-file").write_text("")
    for out, why in [(tmp_path / "f.json", "name a .png, .pdf, .svg file"),
                     (tmp_path / "a-file" / "f.png", "is a file, not a folder"),
                     (tmp_path, "it is a folder")]:
        with pytest.raises(ValueError, match=why):
            frontier.run(["smoke"], out)


def test_the_saved_runs_read_back(tmp_path):
    runs = frontier.load_runs(SAVED)
    assert runs["book"]["epochs"] == 10 and runs["book"]["machine"]
    assert frontier.load_runs(tmp_path / "none.json") == {}


def test_a_run_with_checkpoints_resumes_where_it_stopped(tmp_path, capsys, monkeypatch):
    # The first run stops after one of smoke's two epochs, as a laptop going to sleep would,
    # and the run goes on on another machine: compute stays comparable, the record says so.
    import d2lresnet.train as train_module
    monkeypatch.setattr(train_module, "describe_machine", lambda device=None: "laptop")
    first = frontier.measure("smoke", progress=False, checkpoint=tmp_path / "smoke.pt",
                             num_epochs=1)
    assert (tmp_path / "smoke.pt").exists() and first["epochs"] == 1
    assert first["machine"] == "laptop" and first["machines"] == ["laptop"]
    capsys.readouterr()
    monkeypatch.setattr(train_module, "describe_machine", lambda device=None: "desktop")
    main(["frontier", "--presets", "smoke", "--out", str(tmp_path / "f.png"),
          "--checkpoints", str(tmp_path)])
    assert f"resuming from {tmp_path / 'smoke.pt'} after epoch 1" in capsys.readouterr().err
    resumed = json.loads((tmp_path / "f.json").read_text())["smoke"]
    assert resumed["epochs"] == 2
    assert resumed["test_acc"][0] == first["test_acc"][0]  # epoch 1 was loaded, not retrained
    assert resumed["machines"] == ["laptop", "desktop"]
    assert resumed["machine"] == "laptop, then desktop"


def test_the_share_of_the_cpu_others_used_comes_from_the_counters():
    # 4 cores for 10 s: 40 CPU-seconds. The machine was busy 30 of them, this process 10.
    assert others_share((100.0, 5.0), (130.0, 15.0), 10, cores=4) == 0.5
    assert others_share((100.0, 5.0), (110.0, 15.0), 10, cores=4) == 0.0  # alone
    assert others_share(None, (1.0, 1.0), 10) is None  # no /proc: unknown, not "alone"


def _cpu_seconds_of(pid):
    """The CPU seconds process `pid` has used (utime + stime in /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_process_spinning_beside_a_run_is_seen():
    # A process spinning beside us is "others": its CPU seconds, which /proc/PID/stat counts,
    # are part of what others_share reports, on any CPU however slow or busy. No fixed sleep:
    # the window opens once the spinner says it spins, and closes once it has used 0.5 CPU
    # seconds (50 clock ticks), however long a busy machine takes to give it them. Half of
    # what it used leaves room for /proc/stat's sampling by ticks; 0.0005 is the rounding.
    import select
    import subprocess
    import sys
    import time
    if cpu_seconds() is None:
        pytest.skip("no /proc/stat here")
    spinner = subprocess.Popen([sys.executable, "-c", "print('spinning', flush=True)\n"
                                "while True: pass"], stdout=subprocess.PIPE, text=True)
    try:
        assert select.select([spinner.stdout], [], [], 600)[0], "the spinner never started"
        assert spinner.stdout.readline() == "spinning\n"
        before, started = cpu_seconds(), time.perf_counter()
        spun_before = _cpu_seconds_of(spinner.pid)
        while (spun := _cpu_seconds_of(spinner.pid) - spun_before) < 0.5:
            assert time.perf_counter() - started < 600, f"the spinner got {spun} s in 10 min"
            time.sleep(0.05)
        after, seconds = cpu_seconds(), time.perf_counter() - started
    finally:
        spinner.kill()
        spinner.wait()
    cores = os.cpu_count()
    share = others_share(before, after, seconds, cores=cores)
    assert share >= 0.5 * spun / (seconds * cores) - 0.0005, (share, spun, seconds, cores)


def test_a_run_that_shared_the_cpu_says_so_in_the_table_and_figure(tmp_path):
    alone = {**fake_run("book", 0.92), "others_cpu": [0.01, 0.02]}
    shared = {**fake_run("quick", 0.92), "others_cpu": [0.01, 0.46]}
    assert frontier.shared_cpu(alone) is None and frontier.shared_cpu(shared) == 0.46
    assert frontier.shared_cpu(fake_run("book", 0.92)) is None  # saved before it was recorded
    table = frontier.format_table({"book": alone, "quick": shared}).splitlines()
    assert "shared" not in table[2] and "up to 46% of the CPU" in table[3]
    fig = frontier.plot_frontier({"book": alone, "quick": shared})
    assert any("up to 46% of the CPU" in t.get_text() for t in fig.axes[0].texts)


def test_the_table_gives_the_compute_spent_and_the_compute_to_each_target():
    import dataclasses
    recipe = json.loads(json.dumps(dataclasses.asdict(get_preset("quick"))))
    run = {**fake_run("quick", 0.925), "epochs": 5, "recipe": recipe, "examples": [60_000] * 5,
           "test_acc": [0.85, 0.91, 0.81, 0.905, 0.925], "wall_seconds": [60.0 * i for i in
                                                                       range(1, 6)]}
    epoch = 60_000 * count_flops(resnet18(), (1, 1, 48, 48), backward=True) / book_flops()
    header, _, row = frontier.format_table({"quick": run}).splitlines()
    assert header.split(" | ")[-4:-1] == ["to 0.90", "to 0.92", "to 0.94"]
    # 0.90 first reached in epoch 2 (not the later 0.905), 0.92 in epoch 5, 0.94 never
    assert f"| {5 * epoch:.3f} | {2 * epoch:.3f} | {5 * epoch:.3f} | – |" in row
    old = frontier.format_table({"book": fake_run("book", 0.92)}).splitlines()[2]
    assert old.split(" | ")[4:9] == ["–"] * 5  # no flips; no recipe saved: nothing counted
