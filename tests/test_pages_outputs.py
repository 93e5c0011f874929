"""tools/pages.py's outputs under bad conditions (issue 35 item 15): a read-only folder found
before anything is built, a full disk in one line with no half page or temporary file left,
a FIFO beside the notebooks skipped instead of waited on."""
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from readonly import read_only
from tools import execute_notebook, pages

ROOT = Path(__file__).resolve().parent.parent


def _notebook(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T"),
                                                   nbformat.v4.new_code_cell("1")]), path)
    return path


@pytest.mark.parametrize("command", ["html", "slides", "present"])
def test_a_read_only_output_folder_is_one_line_before_building(tmp_path, capsys, monkeypatch,
                                                               command):
    for build in ("build_html", "build_slides", "build_present"):
        monkeypatch.setattr(pages, build, lambda *args: pytest.fail("it built"))
    notebook = _notebook(tmp_path / "nb" / "demo.ipynb")
    (tmp_path / "ro").mkdir()
    with read_only(tmp_path / "ro"):
        assert pages.main([command, "--output-dir", str(tmp_path / "ro" / "pages"),
                           str(notebook)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("error: --output-dir") and "cannot write in" in line


def test_a_full_disk_is_one_line_and_leaves_no_half_page(tmp_path, capsys, monkeypatch):
    notebook = _notebook(tmp_path / "nb" / "demo.ipynb")
    (tmp_path / "html").mkdir()
    (tmp_path / "html" / "demo.html").write_text("yesterday's page")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(execute_notebook.os, "replace", disk_full)
    assert pages.main(["html", "--output-dir", str(tmp_path / "html"), str(notebook)]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("error: ") and "No space left on device" in line
    assert [p.name for p in (tmp_path / "html").iterdir()] == ["demo.html"]  # no .tmp left
    assert (tmp_path / "html" / "demo.html").read_text() == "yesterday's page"


def test_present_skips_a_fifo_beside_the_notebook_instead_of_waiting_on_it(tmp_path):
    notebook = _notebook(tmp_path / "nb" / "demo.ipynb")
    os.mkfifo(tmp_path / "nb" / "pipe")
    (tmp_path / "nb" / "data.csv").write_text("1,2\n")
    result = subprocess.run([sys.executable, "-m", "tools.pages", "present", "--output-dir",
                             str(tmp_path / "out"), str(notebook)], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "data.csv", "demo.ipynb", "jupytext.toml"]
