"""tools/gpu_runs.py: the table of compute to accuracy read from a saved recipes JSON."""
from tools.gpu_runs import compute_to, format_table


def run(accs, compute):
    return dict(test_acc=accs, book_compute_fraction=compute, test_acc_flips=[])


def test_compute_to_is_the_first_epoch_that_reaches_the_target():
    r = run([0.85, 0.91, 0.90, 0.93], [0.1, 0.2, 0.3, 0.4])
    assert compute_to(r, 0.90) == 0.2  # the first, not a later dip back
    assert compute_to(r, 0.93) == 0.4
    assert compute_to(r, 0.94) is None


def test_table_takes_the_worst_seed_and_marks_targets_not_reached_on_every_seed():
    saved = dict(runs={"quick/0": run([0.91, 0.93], [0.07, 0.148]),
                       "quick/1": run([0.89, 0.925], [0.07, 0.148]),
                       "book/0": run([0.88], [1.0])})
    header, rule, *rows = format_table(saved).splitlines()
    assert header.split("|")[1:-1] == [" recipe ", " seeds ", " test acc ", " with flips ",
                                       " compute ", " to 0.90 ", " to 0.92 ", " to 0.94 "]
    assert rows == ["| `book` | 1 | 0.880–0.880 | – | 1.000 | – | – | – |",
                    "| `quick` | 2 | 0.925–0.930 | – | 0.148 | 0.148 | 0.148 | – |"]


def test_a_moving_average_lags_the_weights_and_is_tested_after_every_epoch():
    import torch
    from torch import nn

    from tools.gpu_runs import moving_averages
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 2, bias=False))
    X, y = torch.ones(3, 1, 2, 2), torch.tensor([0, 0, 0])
    on_batch, accuracy = moving_averages(net, (0.75,), [(X, y)], batches_per_epoch=2)
    with torch.no_grad():
        net[1].weight.copy_(torch.tensor([[0.0] * 4, [1.0] * 4]))  # answers class 1
    on_batch(1, 0.0, 0, 3)  # the first update copies the weights
    with torch.no_grad():
        net[1].weight.copy_(torch.tensor([[0.8] * 4, [0.0] * 4]))  # now answers class 0
    on_batch(2, 0.0, 0, 3)  # end of epoch 1: the average keeps 3/4 of the old weights,
    assert accuracy == {"0.75": [0.0]}  # 0.2 against 0.75: still class 1
    on_batch(3, 0.0, 0, 3)
    assert accuracy == {"0.75": [0.0]}  # tested once an epoch, not every step
    assert moving_averages(net, (), [(X, y)], 2) == (None, {})


def test_accuracy_at_sides_tests_each_side_and_their_average():
    import torch
    from torch import nn

    from tools.gpu_runs import accuracy_at_sides
    torch.manual_seed(0)
    # any side goes through: pool to 4x4, then a linear layer
    net = nn.Sequential(nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(16, 10))
    result = accuracy_at_sides(net, (28, 36))
    assert set(result) == {"28", "36", "mean"}
    assert all(0 <= acc <= 1 for acc in result.values())
    assert result["28"] != result["36"]  # the resized pictures are other inputs
    assert accuracy_at_sides(net, (28, 28))["mean"] == result["28"]  # the same twice: itself


def test_a_recipe_job_records_the_averages_and_sides_beside_the_recipe(monkeypatch):
    # smoke's two epochs with one moving average and one extra test side, end to end
    import torch

    import tools.gpu_runs as gpu_runs
    monkeypatch.setitem(gpu_runs.RECIPES, "smoke-ema",
                        ("smoke", dict(ema=(0.9,), test_sides=(32,))))
    threads = torch.get_num_threads()
    try:
        name, seed, run = gpu_runs.recipe_job(("smoke-ema", 0, "cpu"))
    finally:
        torch.set_num_threads(threads)
    assert (name, seed, run["ema"], run["test_sides"]) == ("smoke-ema", 0, (0.9,), (32,))
    assert run["preset"]["name"] == "smoke" and "ema" not in run["preset"]
    assert len(run["test_acc_ema"]["0.9"]) == len(run["test_acc"]) == 2
    assert set(run["test_acc_at_sides"]) == {"32", "mean"}
    assert run["test_acc_at_sides"]["mean"] == run["test_acc_at_sides"]["32"]  # one side
    assert run["device"] == "cpu"


# Issue 35 items 12 and 15: what was typed wrong is one line, before any process starts -----

import pytest  # noqa: E402


@pytest.mark.parametrize("argv, words", [
    (["--only", "recipes", "--seeds", "0"], "--seeds: expected a whole number at least 1"),
    (["--processes", "0"], "--processes: expected a whole number at least 1"),
    (["--device", "hpu"], "--device"),
    (["--device", "cuda:99"], "--device"),
    (["--table", "{tmp}/missing.json"], "missing.json is not a saved recipes JSON"),
    (["--table", "{tmp}/list.json"], 'list.json is not a saved recipes JSON: it holds no "runs"'),
    (["--sides-of", "{tmp}/notes.pt"], "notes.pt is not a d2lresnet checkpoint"),
    (["--sides-of", "{tmp}/missing.pt"], "missing.pt: No such file"),
])
def test_a_mistake_is_one_line_before_any_run(tmp_path, capsys, monkeypatch, argv, words):
    import multiprocessing

    from tools import gpu_runs
    (tmp_path / "list.json").write_text("[]")
    (tmp_path / "notes.pt").write_text("epoch = 3\n")
    monkeypatch.setattr(multiprocessing, "get_context", lambda *a: pytest.fail("it ran"))
    monkeypatch.setattr(gpu_runs.mp, "get_context", lambda *a: pytest.fail("it ran"))
    with pytest.raises(SystemExit) as exit_:
        gpu_runs.main([arg.format(tmp=tmp_path) for arg in argv] + ["--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and words in err and "Traceback" not in err, err
    assert err.splitlines()[-1].startswith("gpu_runs.py: error:") or "error:" in err


def test_the_saved_table_prints_without_a_gpu(capsys):
    from pathlib import Path

    from tools import gpu_runs
    saved = Path(__file__).parent.parent / "notebooks" / "figures" / "recipes_gpu.json"
    assert gpu_runs.main(["--table", str(saved)]) == 0
    assert capsys.readouterr().out.startswith("| recipe | seeds |")
