"""model.plain_cnn and d2lresnet.experiments.versus: fastbook's simple CNN against ResNet-18, one recipe."""
import json
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from d2lresnet import i18n

from d2lresnet.experiments import versus
from d2lresnet.cli import main
from d2lresnet.model import count_parameters, plain_cnn, resnet18

SAVED = Path(__file__).parent.parent / "notebooks" / "figures" / "versus.json"


def test_plain_cnn_halves_five_times_and_has_no_shortcut():
    net = plain_cnn()
    sizes, X = [], torch.zeros(2, 1, 28, 28)
    for layer in net[:5]:
        X = layer(X)
        sizes.append(X.shape[-1])
    assert sizes == [14, 7, 4, 2, 1]
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert not any(hasattr(m, "shortcut") for m in net.modules())
    # 3x3 convs without bias, a BatchNorm (scale and shift) after each, and the linear head
    widths = (1, 16, 32, 64, 128, 256)
    expected = sum(9 * c_in * c_out + 2 * c_out for c_in, c_out in zip(widths, widths[1:]))
    assert count_parameters(net) == expected + 256 * 10 + 10
    assert sum(isinstance(m, nn.Conv2d) for m in net.modules()) == 5


def test_both_nets_train_with_one_recipe_and_are_saved(tmp_path, capsys):
    out = tmp_path / "versus.png"
    result = versus.run("smoke", out, num_epochs=1)
    saved = json.loads(out.with_suffix(".json").read_text())
    assert saved == json.loads(json.dumps(result))
    assert saved["recipe"]["epochs"] == 1 and saved["recipe"]["limit"] == 512
    assert saved["recipe"]["augment"] is False and saved["recipe"]["one_cycle"] is False
    assert list(saved["nets"]) == ["plain_cnn", "resnet18"]
    for name, build in versus.NETS.items():
        run = saved["nets"][name]
        assert run["epochs"] == len(run["test_acc"]) == 1 and run["preset"] == "smoke"
        assert run["params"] == count_parameters(build())
        assert 0 < run["wall_seconds"][0]
    assert out.stat().st_size > 10_000
    printed = capsys.readouterr().out
    assert "plain_cnn: 395,386 parameters" in printed and "resnet18: 11,178,378" in printed


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_the_figure_has_a_line_per_net_in_both_languages(language):
    def fake(acc, params, wall_seconds):
        return {"test_acc": [acc - 0.2, acc - 0.1, acc], "params": params,
                "wall_seconds": wall_seconds}

    result = {"recipe": {"preset": "quick", "resize": 28}, "machine": "2 cores, test",
              "nets": {"plain_cnn": fake(0.90, 395_386, [15, 28, 42]),
                       # a slow middle epoch (another job on the CPU) does not move the median
                       "resnet18": fake(0.92, 11_178_378, [450, 1250, 1700])}}
    i18n.set_language(language)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message="Glyph .* missing")
            fig = versus.plot_versus(result)
            fig.canvas.draw()
        legend = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
        expected = [i18n.label("versus_line", net=i18n.label("plain_cnn"), acc="0.900",
                               params="0.40", seconds="14"),
                    i18n.label("versus_line", net=i18n.label("resnet18"), acc="0.920",
                               params="11.18", seconds="450")]
    finally:
        i18n.set_language("en")
    assert legend == expected
    assert [list(line.get_ydata()) for line in fig.axes[0].lines] == [
        pytest.approx([0.7, 0.8, 0.9]), pytest.approx([0.72, 0.82, 0.92])]


def test_the_saved_comparison_is_of_todays_nets_under_one_recipe():
    saved = json.loads(SAVED.read_text())
    assert saved["nets"]["plain_cnn"]["params"] == count_parameters(plain_cnn())
    assert saved["nets"]["resnet18"]["params"] == count_parameters(resnet18())
    runs = list(saved["nets"].values())
    assert all(run["epochs"] == saved["recipe"]["epochs"] for run in runs)
    assert runs[0]["about"] == runs[1]["about"] and runs[0]["machine"] == runs[1]["machine"]


@pytest.fixture
def compared(monkeypatch):
    """versus.compare replaced: the preset it was asked for, nothing trained."""
    asked = []
    monkeypatch.setattr(versus, "compare", lambda preset, *a, **k: asked.append(preset) or 1 / 0)
    return asked


def test_an_unknown_preset_is_refused_before_anything_trains(tmp_path, compared):
    with pytest.raises(ValueError, match="unknown preset 'fastest'"):
        versus.run("fastest", tmp_path / "v.png")
    assert compared == [] and list(tmp_path.iterdir()) == []


def test_the_preset_comes_from_d2lresnet_preset_and_a_bogus_one_is_refused(
        tmp_path, compared, monkeypatch, capsys):
    monkeypatch.setenv("D2LRESNET_PRESET", "smoke")
    with pytest.raises(ZeroDivisionError):  # compare was reached, with the environment's preset
        main(["versus", "--out", str(tmp_path / "v.png")])
    assert compared == ["smoke"]
    monkeypatch.setenv("D2LRESNET_PRESET", "bogus")
    assert main(["versus", "--out", str(tmp_path / "v.png")]) == 1
    assert capsys.readouterr().err.strip() == ("error: unknown preset 'bogus'; choose one of "
                                              "book, quick, best, smoke")
    assert compared == ["smoke"]


@pytest.mark.parametrize("out, why", [("v.json", "name a .png, .pdf, .svg file"),
                                      ("a-file/v.png", "is a file, not a folder")])
def test_an_output_that_cannot_be_written_is_refused_before_training(tmp_path, compared, out,
                                                                     why):
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ValueError, match=why):
        versus.run("smoke", tmp_path / out)
    assert compared == []


def test_the_numbers_are_saved_before_the_figure_is_drawn(tmp_path, monkeypatch):
    result = json.loads(SAVED.read_text())
    monkeypatch.setattr(versus, "compare", lambda *a, **k: result)
    monkeypatch.setattr(versus, "plot_versus", lambda *a: 1 / 0)  # drawing fails
    with pytest.raises(ZeroDivisionError):
        versus.run("smoke", tmp_path / "v.png")
    assert json.loads((tmp_path / "v.json").read_text()) == result
