import json
import os
import subprocess
import sys

import pytest
import torch

from d2lresnet.cli import main
from d2lresnet.data import FILES
from d2lresnet.experiments.ablation import BUDGETS
from test_shapes import NOTES_TRACE


def test_shapes_prints_the_notes_trace(capsys):
    assert main(["shapes", "--input", "1,1,224,224"]) == 0
    assert capsys.readouterr().out == NOTES_TRACE + "\n"


def test_shapes_at_another_size_and_channels(capsys):
    assert main(["shapes", "--input", "2,3,96,96"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[4] == "Sequential output shape:\t torch.Size([2, 512, 3, 3])"


@pytest.mark.parametrize("bad", ["1,1,224", "1,1,0,5", "a,b,c,d"])
def test_bad_shape_is_a_usage_error_not_a_traceback(bad, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["shapes", "--input", bad])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--input" in err and "Traceback" not in err


def test_train_json_and_resume(tmp_path, capsys):
    args = ["train", "--preset", "smoke", "--limit", "128", "--json",
            "--checkpoint", str(tmp_path / "smoke.pt")]
    assert main(args + ["--epochs", "1"]) == 0
    first = json.loads(capsys.readouterr().out)  # the run's record, as frontier saves it
    assert first["preset"] == "smoke" and first["epochs"] == 1
    assert first["recipe"]["resize"] is None and first["recipe"]["limit"] == 128
    assert 0 <= first["test_acc"][0] <= 1 and first["examples_per_sec"] > 0
    assert first["wall_seconds"][0] > 0 and first["device"] == "cpu"
    assert first["machine"].endswith(f"({torch.backends.cpu.get_cpu_capability()})")

    assert main(args + ["--epochs", "2", "--resume"]) == 0
    captured = capsys.readouterr()
    resumed = json.loads(captured.out)  # stdout is the JSON object and nothing else
    assert "resuming from" in captured.err
    assert resumed["epochs"] == 2
    assert resumed["test_acc"][0] == first["test_acc"][0]  # epoch 1 came from the file

    assert main(args + ["--epochs", "3", "--resume", "--lr", "1e30"]) == 1  # another recipe
    assert "lr 0.05 then, 1e+30 now" in capsys.readouterr().err
    before = (tmp_path / "smoke.pt").read_bytes()
    assert main(args + ["--epochs", "3"]) == 1  # no --resume: refused, the file kept
    assert "already exists" in capsys.readouterr().err
    assert (tmp_path / "smoke.pt").read_bytes() == before


def test_train_reports_divergence_without_a_traceback(capsys):
    code = main(["train", "--preset", "smoke", "--limit", "128", "--epochs", "1", "--lr", "1e30",
                 "--precision", "fp32", "--json"])
    err = capsys.readouterr().err
    assert code == 1 and "smaller" in err and "Traceback" not in err


@pytest.mark.parametrize("bad", [["--preset", "fast"], ["--lr", "-1"], ["--lr", "inf"],
                                 ["--epochs", "0"]])
def test_bad_train_options_are_refused(bad, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train"] + bad)
    assert exit_.value.code == 2 and bad[0] in capsys.readouterr().err


def _bad_inputs(tmp):
    """(arguments, exit code, words the one error line must hold): what a careful user tried.
    Exit code 2 is argparse's usage error: refused before any data is read."""
    (tmp / "a-file").write_text("")
    (tmp / "notes.pt").write_text("epoch = 3\n")
    (tmp / "not-runs.json").write_text("[]")
    (tmp / "empty").mkdir(exist_ok=True)
    garbage = tmp / "garbage"  # the four names, wrong bytes
    garbage.mkdir(exist_ok=True)
    for name in FILES:
        (garbage / name).write_bytes(b"not Fashion-MNIST")
    quick = ["--preset", "smoke", "--limit", "128", "--epochs", "1"]
    return [
        ([], 2, "required: command"),
        (["frobnicate"], 2, "invalid choice"),
        (["train", "--epochs", "0"], 2, "--epochs"),
        (["train", "--epochs", "two"], 2, "--epochs"),
        (["train", "--batch-size", "1"], 2, "--batch-size: expected a whole number at least 2"),
        (["train", "--limit", "1"], 2, "--limit"),
        (["train", "--resize", "0"], 2, "--resize"),
        (["train", "--lr", "1e300"], 2, "--lr"),
        (["train", "--lr", "nan"], 2, "--lr"),
        (["train", "--lr", "0"], 2, "--lr"),
        (["train", "--seed", "-1"], 2, "--seed"),
        (["train", "--seed", str(2**70)], 2, "--seed: expected a whole number from 0"),
        (["train", "--preset", "fast"], 2, "--preset"),
        (["train", "--precision", "fp16"], 2, "--precision"),
        (["train", "--device", "tpu"], 2, "--device"),
        (["train", "--device", "cuda:99"], 2, "--device"),
        (["train", "--data", str(tmp / "nowhere")], 2, "--data"),
        (["train", "--resume"], 2, "--resume needs --checkpoint"),
        (["train", "--checkpoint", ""], 2, "--checkpoint: expected a file name"),
        (["train", *quick, "--checkpoint", str(tmp)], 1, "is a folder"),
        (["train", *quick, "--checkpoint", str(tmp / "a-file" / "ck.pt")], 1,
         "is a file, not a folder"),
        (["train", *quick, "--checkpoint", str(tmp / "notes.pt")], 1,
         f"{tmp / 'notes.pt'} already exists; resume=True (--resume) continues it"),
        (["train", *quick, "--checkpoint", str(tmp / "notes.pt"), "--resume"], 1,
         "not a d2lresnet checkpoint: it is not a file torch.save writes"),
        (["train", *quick, "--data", str(garbage)], 1,
         f"{garbage / 'train-images-idx3-ubyte'} is truncated or corrupt"),
        (["shapes", "--input", "1,1,224"], 2, "--input"),
        (["shapes", "--input", "a,b,c,d"], 2, "--input"),
        (["shapes", "--input", "1,1,0,5"], 2, "--input"),
        (["shapes", "--input", "1,1,99999999999999999999,2"], 2, "--input"),
        (["bench", "--warmup", "-1"], 2, "--warmup"),
        (["bench", "--steps", "0"], 2, "--steps"),
        (["bench", "--batch-size", "1"], 2, "--batch-size"),
        (["frontier", "--presets", "smoke", "--out", str(tmp / "f.json")], 1, "name a .png"),
        (["frontier", "--presets", "smoke", "--out", str(tmp / "not-runs.png")], 1,
         f"{tmp / 'not-runs.json'} holds something else, not frontier's runs"),
        (["versus", "--preset", "smoke", "--out", str(tmp / "a-file" / "v.png")], 1,
         "is a file, not a folder"),
        (["train", "--device", "hpu"], 2, "--device: expected cuda, mps or cpu"),  # torch's
        (["train", "--checkpoint", f"{tmp}/newdir/", *quick], 1, "names a folder"),
        (["train", "--data", str(tmp / "empty"), *quick], 1, "Fashion-MNIST is not in"),
    ]


def _problem(args, code, words, returncode, stdout, stderr):
    """What is wrong with one bad input's outcome, or None."""
    error_lines = [line for line in stderr.splitlines() if "error:" in line]
    if "Traceback (most recent call last)" in stdout + stderr:
        return f"{args}: a traceback\n{stdout + stderr}"
    if returncode != code:
        return f"{args}: exit {returncode}, expected {code}\n{stdout + stderr}"
    if len(error_lines) != 1 or error_lines[0] != stderr.splitlines()[-1]:
        return f"{args}: not one error line at the end\n{stderr}"
    if words not in error_lines[0]:
        return f"{args}: {words!r} not in {error_lines[0]!r}"
    if stdout.strip() and code == 2:
        return f"{args}: printed to stdout\n{stdout}"
    return None


def test_bad_inputs_exit_with_one_line(tmp_path, monkeypatch, capsys):
    """Every bad input through main() in this process, as the command line would pass it."""
    monkeypatch.setenv("D2LRESNET_CACHE", str(tmp_path / "empty-cache"))
    problems = []
    for args, code, words in _bad_inputs(tmp_path):
        try:
            returncode = main(args)
        except SystemExit as exit_:
            returncode = exit_.code
        captured = capsys.readouterr()
        problems.append(_problem(args, code, words, returncode, captured.out, captured.err))
    assert not [p for p in problems if p], "\n\n".join(p for p in problems if p)


@pytest.mark.parametrize("row", [0, 2, 21, 27])  # a usage error, a refused file, a huge shape
def test_bad_inputs_as_a_user_runs_them_exit_without_a_traceback(tmp_path, row):
    args, code, words = _bad_inputs(tmp_path)[row]
    result = subprocess.run([sys.executable, "-m", "d2lresnet", *args], capture_output=True,
                            text=True, timeout=600,
                            env={**os.environ, "D2LRESNET_CACHE": str(tmp_path / "cache")})
    assert not _problem(args, code, words, result.returncode, result.stdout, result.stderr)


def test_help_explains_each_option():
    out = subprocess.run([sys.executable, "-m", "d2lresnet", "train", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for option in ["--preset", "--epochs", "--resize", "--batch-size", "--lr", "--limit",
                   "--device", "--precision", "--checkpoint", "--resume", "--seed", "--json"]:
        assert option in out


def test_bench_reports_both_pipelines(capsys):
    assert main(["bench", "--resize", "32", "--batch-size", "16", "--steps", "1",
                 "--warmup", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    ours, book = result["ours_examples_per_sec"], result["book_examples_per_sec"]
    assert book > 0 and ours > 0
    # Both rates are rounded to 0.1, so their ratio is known only that well: on a busy machine
    # (a few examples/sec) that is more than 2%.
    slack = ours / book * (0.05 / ours + 0.05 / book) + 0.005
    assert abs(result["speedup"] - ours / book) <= slack
    assert result["gflop_per_example"] > 0 and result["matmul_peak_gflops"]["float32"] > 0


@pytest.mark.parametrize("steps", [0, 1, 40])
def test_ctrl_c_at_any_moment_stops_without_a_traceback(steps):
    # Ctrl-C while torch imports, or later while tracing: one line, exit 130 or done (0).
    # The signal goes only once our code runs: a fixed 0.05 s after the start landed in
    # Python's own start-up (<frozen runpy>) on a busy CPU. -X importtime says when: it writes
    # a line as each import ends, and d2lresnet.presets is imported by `from .cli import main`,
    # inside __main__'s `try`. Then we wait for `steps` more imports (torch's, the tracing's).
    import signal
    process = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "d2lresnet", "shapes"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in process.stderr:
        seen.append(line)
        if "d2lresnet.presets" in line:
            break
    assert any("d2lresnet.presets" in line for line in seen), "".join(seen[-5:])
    for _, line in zip(range(steps), process.stderr):
        seen.append(line)
    process.send_signal(signal.SIGINT)
    err = "".join(seen) + process.stderr.read()
    process.wait(timeout=600)
    assert "Traceback" not in err, err
    assert process.returncode in (0, 130)


# Issue 35: each command writes only its own kind of file, and finds out before training ----

FIGURES = os.path.join(os.path.dirname(__file__), "..", "notebooks", "figures")


class Trained(Exception):
    """Raised where training would start: a refusal must come before it."""


@pytest.fixture
def no_training(monkeypatch):
    from d2lresnet import data
    from d2lresnet.experiments import frontier, versus

    def trained(*args, **kwargs):
        raise Trained

    for module, name in [(frontier, "measure"), (versus, "measure"),
                         (data, "load_fashion_mnist")]:
        monkeypatch.setattr(module, name, trained)


def _copy(name, to):
    import shutil
    to.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(os.path.join(FIGURES, name), to)
    return to


@pytest.mark.parametrize("command, saved, holds", [
    ("versus", "frontier.json", "frontier's runs"),
    ("frontier", "versus.json", "a versus comparison"),
    ("frontier", "degradation.json", "a degradation experiment"),
    ("degradation", "frontier.json", "frontier's runs"),
    ("degradation", "unrelated", "something else"),
])
def test_a_command_never_writes_over_another_commands_numbers(tmp_path, capsys, no_training,
                                                              command, saved, holds):
    json_path = tmp_path / "x" / "results.json"
    if saved == "unrelated":
        json_path.parent.mkdir()
        json_path.write_text('{"a": 1}')
    else:
        _copy(saved, json_path)
    before = json_path.read_bytes()
    options = {"frontier": ["--presets", "smoke"]}.get(command, ["--preset", "smoke"])
    assert main([command, *options, "--out", str(tmp_path / "x" / "results.png")]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert f"error: {json_path} holds {holds}" in line and "move it away" in line
    assert json_path.read_bytes() == before


@pytest.mark.parametrize("command, saved", [("frontier", "frontier.json"),
                                            ("versus", "versus.json"),
                                            ("degradation", "degradation.json")])
def test_a_command_goes_on_beside_its_own_kind_of_file(tmp_path, no_training, command, saved):
    _copy(saved, tmp_path / "results.json")
    options = {"frontier": ["--presets", "smoke"]}.get(command, ["--preset", "smoke"])
    with pytest.raises(Trained):
        main([command, *options, "--out", str(tmp_path / "results.png")])


@pytest.mark.parametrize("command", ["degradation", "frontier", "versus"])
def test_an_unwritable_output_is_found_before_training(tmp_path, capsys, no_training, command):
    from readonly import read_only
    folder = tmp_path / "ro"
    folder.mkdir()
    options = {"frontier": ["--presets", "smoke"]}.get(command, ["--preset", "smoke"])
    with read_only(folder):
        assert main([command, *options, "--out", str(folder / "deg.png")]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert "Read-only" in line or "ermission" in line


def test_a_folder_where_an_output_goes_is_found_before_training(tmp_path, capsys, no_training):
    (tmp_path / "f_compute.png").mkdir()
    (tmp_path / "g.json").mkdir()
    for out in ("f.png", "g.png"):
        assert main(["frontier", "--presets", "smoke", "--out", str(tmp_path / out)]) == 1
        assert "it is a folder" in capsys.readouterr().err


# Issue 35 items 11 and 12: sizes the machine cannot hold, and a depth asked for twice --------

@pytest.mark.parametrize("args, words", [
    (["degradation", "--preset", "smoke", "--depths", "6000002"],
     "the 6000002-layer networks would take about"),
    (["bench", "--batch-size", "1000000000"], "ResNet-18 at batch 60000 would take about"),
    (["bench", "--compile", "--batch-size", "1000000000"], "ResNet-18 at batch 60000"),
    (["degradation", "--preset", "smoke", "--depths", "8", "8"], "each depth once"),
])
def test_a_run_the_machine_cannot_hold_is_refused_before_anything_is_allocated(
        tmp_path, capsys, no_training, monkeypatch, args, words):
    from d2lresnet.experiments import bench

    def trained(*args, **kwargs):
        raise Trained

    monkeypatch.setattr(bench, "load_data_fashion_mnist", trained)
    from d2lresnet.experiments import runs
    monkeypatch.setattr(runs, "machine_bytes", lambda: 64e9)  # any machine short of a TB
    assert main([*args, "--out", str(tmp_path / "d.png")] if args[0] == "degradation"
                else args) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert words in line, line
    if "would take" in words:
        assert "more than this machine's 64 GB" in line


# Issue 35 item 12: what a run says and keeps is what it was asked ---------------------------

T = ["--preset", "smoke", "--limit", "64", "--batch-size", "32", "--precision", "fp32"]


def test_the_first_line_says_what_was_changed_from_the_preset(capsys):
    assert main(["train", *T, "--epochs", "1", "--seed", "5"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("preset smoke: seconds, for CI") and first.endswith(
        "; changed here: epochs 1, batch_size 32, limit 64, seed 5"), first


def test_a_trick_is_added_to_the_preset_and_said(capsys):
    # --lr names the peak itself, so it wins over the trick's higher one; the smoothing stays.
    assert main(["train", *T, "--epochs", "1", "--trick", "whiten_stem",
                 "--trick", "lr_0.2_smoothing_0.2", "--lr", "0.03", "--json"]) == 0
    recipe = json.loads(capsys.readouterr().out)["recipe"]
    assert recipe["whiten_stem"] and recipe["label_smoothing"] == 0.2 and recipe["lr"] == 0.03
    assert main(["train", *T, "--epochs", "1", "--trick", "zero_init_residual"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.endswith("; changed here: zero_init_residual True, epochs 1, batch_size 32, "
                          "limit 64"), first


def test_an_unknown_trick_is_a_usage_error_naming_the_choices(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", *T, "--trick", "dirac"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "whiten_stem" in err and "Traceback" not in err


def test_a_resume_under_another_seed_is_refused(tmp_path, capsys):
    # The seed sets the init and the order of the data: it belongs to the recipe.
    path = str(tmp_path / "seeded.pt")
    assert main(["train", *T, "--epochs", "1", "--seed", "3", "--checkpoint", path]) == 0
    before = (tmp_path / "seeded.pt").read_bytes()
    for seed, differs in (("4", "seed 3 then, 4 now"), ("0", "seed 3 then, None now")):
        capsys.readouterr()
        assert main(["train", *T, "--epochs", "2", "--seed", seed, "--checkpoint", path,
                     "--resume"]) == 1
        assert differs in capsys.readouterr().err
    assert (tmp_path / "seeded.pt").read_bytes() == before
    assert main(["train", *T, "--epochs", "2", "--seed", "3", "--checkpoint", path,
                 "--resume"]) == 0


def test_shapes_builds_the_network_on_the_meta_device(monkeypatch, capsys):
    # --input 1,1000000,1,1 passed the input cap, then allocated 12.5 GB of stem weights.
    from d2lresnet import shapes
    traced, real_print_trace = [], shapes.print_trace

    def print_trace(net, input_shape):
        traced.append({p.device.type for p in net.parameters()})
        return real_print_trace(net, input_shape)

    monkeypatch.setattr(shapes, "print_trace", print_trace)
    assert main(["shapes", "--input", "1,1000,1,1"]) == 0
    assert traced == [{"meta"}]
    assert capsys.readouterr().out.splitlines()[-1].endswith("torch.Size([1, 10])")


def test_the_ablations_table_at_a_budget_refuses_a_file_of_another(tmp_path, capsys):
    out = tmp_path / "twentieth.json"
    out.write_text(json.dumps({"kind": "ablation", "base": BUDGETS["1/20"][1], "runs": {}}))
    assert main(["ablation", "--table", "--out", str(out)]) == 0  # 1/20, the default
    assert main(["ablation", "--table", "--budget", "1/10", "--out", str(out)]) == 1
    assert "another budget" in capsys.readouterr().err


def test_the_ablation_refuses_to_stack_a_trick_on_a_base_that_has_it(tmp_path, capsys):
    out = tmp_path / "stacked.json"
    assert main(["ablation", "--budget", "1/20+whiten", "--tricks", "whiten_stem",
                 "--out", str(out)]) == 1
    assert capsys.readouterr().err.startswith("error: whiten_stem is already in this base")
    assert not out.exists()
