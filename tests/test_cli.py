import json
import subprocess
import sys

import pytest

from d2lresnet.cli import main
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
    first = json.loads(capsys.readouterr().out)
    assert first["preset"] == "smoke" and first["epochs"] == 1 and first["resize"] == 28
    assert 0 <= first["test_acc"] <= 1 and first["examples_per_sec"] > 0
    assert first["wall_seconds"] > 0 and first["device"] == "cpu"

    assert main(args + ["--epochs", "2", "--resume"]) == 0
    out = capsys.readouterr().out
    resumed = json.loads(out[out.index("{"):])
    assert resumed["epochs"] == 2
    assert resumed["test_acc_per_epoch"][0] == first["test_acc"]  # epoch 1 came from the file


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
    assert result["book_examples_per_sec"] > 0 and result["ours_examples_per_sec"] > 0
    assert result["speedup"] == pytest.approx(
        result["ours_examples_per_sec"] / result["book_examples_per_sec"], rel=0.02)
    assert result["gflop_per_example"] > 0 and result["matmul_peak_gflops"]["float32"] > 0
