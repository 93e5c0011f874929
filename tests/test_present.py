"""present(): one switch that enlarges figures (matplotlib rcParams) and, in a notebook, widget
and output text (a <style> block). The browser side is checked in test_browser.py."""
import os
import subprocess
import sys

import matplotlib.pyplot as plt
import pytest

from d2lresnet.drawing import plots


@pytest.fixture(autouse=True)
def restore_rcparams():
    saved = plt.rcParams.copy()
    yield
    plt.rcParams.update(saved)


@pytest.fixture
def styles_shown(monkeypatch):
    """Pretend to be a notebook and record what present() displays or updates."""
    import IPython.display
    calls = []
    monkeypatch.setattr(plots, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display",
                        lambda obj, display_id=None: calls.append(("display", obj, display_id)))
    monkeypatch.setattr(IPython.display, "update_display",
                        lambda obj, display_id=None: calls.append(("update", obj, display_id)))
    return calls


def test_present_scales_figures_and_fonts_and_back():
    plots.present(True)
    assert plt.rcParams["figure.dpi"] == pytest.approx(100 * plots._PRESENT_SCALE)
    assert plt.rcParams["font.size"] == pytest.approx(10 * plots._PRESENT_SCALE)
    plots.present(False)
    assert plt.rcParams["figure.dpi"] == 100
    assert plt.rcParams["font.size"] == 10


def test_present_style_enlarges_widget_and_output_text():
    css = plots.present_style(2.0)
    assert css.startswith("<style") and css.rstrip().endswith("</style>")
    for selector in (".jp-OutputArea", ".widget-label", ".widget-readout", ".jp-RenderedText"):
        assert selector in css
    assert "--jp-widgets-font-size: 26px;" in css  # 13 px * 2
    assert "--jp-code-font-size: 26px;" in css
    assert "--jp-widgets-inline-label-width: 160px;" in css
    assert "--jp-widgets-font-size: 13px;" in plots.present_style(1.0)


def test_present_displays_the_style_in_a_notebook(styles_shown):
    shown = styles_shown
    plots.present()
    kinds = [(kind, display_id) for kind, _, display_id in shown]
    assert kinds == [("update", plots._STYLE_ID), ("display", plots._STYLE_ID)]
    html = shown[-1][1]
    assert html.data == plots.present_style()
    assert "widget-readout" in html._repr_html_()

    shown.clear()
    plots.present(False)  # empties the earlier style blocks, shows nothing new
    assert [(kind, obj.data) for kind, obj, _ in shown] == [("update", "")]


def test_present_displays_nothing_outside_a_notebook(capsys):
    plots.present(True)
    assert capsys.readouterr().out == ""


def test_importing_the_package_changes_nothing_even_with_the_env_var():
    code = ("import matplotlib.pyplot as plt, d2lresnet.widgets, d2lresnet.drawing.plots; "
            "print(plt.rcParams['figure.dpi'], plt.rcParams['font.size'])")
    env = dict(os.environ, D2LRESNET_PRESENT="1", MPLBACKEND="Agg")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert [float(x) for x in out] == [100, 10]


@pytest.mark.parametrize("value, on", [("1", True), ("true", True), ("Yes", True),
                                       ("0", False), ("false", False), ("no", False), ("", False)])
def test_the_env_var_switches_present_on_when_asked(monkeypatch, value, on):
    monkeypatch.setenv("D2LRESNET_PRESENT", value)
    assert plots.present_from_environment() is on
    scale = plots._PRESENT_SCALE if on else 1
    assert [plt.rcParams["figure.dpi"], plt.rcParams["font.size"]] == pytest.approx(
        [100 * scale, 10 * scale])


@pytest.mark.parametrize("value", ["2", "on", "ja"])
def test_an_unknown_env_var_value_is_refused_in_one_line(monkeypatch, value):
    monkeypatch.setenv("D2LRESNET_PRESENT", value)
    with pytest.raises(ValueError, match=f"^D2LRESNET_PRESENT must be 1, true, yes .*"
                                         f"got '{value}'$"):
        plots.present_from_environment()
    assert plt.rcParams["figure.dpi"] == 100


@pytest.mark.parametrize("bad", ["no", "False", None, 2])
def test_present_wants_true_or_false(bad):
    with pytest.raises(ValueError, match=f"^on must be True or False, got {bad!r}$"):
        plots.present(bad)
    assert plt.rcParams["figure.dpi"] == 100


def _shell(name, module):
    return type(name, (), {"__module__": module})()


@pytest.mark.parametrize("shell, expected", [
    (_shell("ZMQInteractiveShell", "ipykernel.zmqshell"), True),   # JupyterLab, Jupyter
    (_shell("Shell", "google.colab._shell"), True),                # Colab
    (_shell("TerminalInteractiveShell", "IPython.terminal.interactiveshell"), False),
    (None, False),                                                  # a script
])
def test_in_notebook_knows_jupyter_and_colab(monkeypatch, shell, expected):
    import IPython
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    assert plots.in_notebook() is expected


def test_every_notebook_applies_the_switch_in_its_first_cell():
    # D2LRESNET_PRESET=1 make lab presents every notebook: its first code cell reads the switch
    import jupytext
    from pathlib import Path
    notebooks = sorted((Path(__file__).parent.parent / "notebooks").glob("*/[0-9]*.py"))
    assert len(notebooks) >= 14
    for path in notebooks:
        first = next(c for c in jupytext.read(path).cells if c.cell_type == "code")
        assert "present_from_environment()" in first.source, path.name
