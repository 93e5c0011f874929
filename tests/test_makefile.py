"""`make lab` where a student may be: as root (--allow-root, only then) and without the data
(JupyterLab opens anyway, after a warning saying how to get it). Run with stand-ins for
`jupyter`, `python`, `id` and `apt-get`, so nothing is installed or started."""
import fnmatch
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _script(path, body):
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


@pytest.fixture
def make_lab(tmp_path):
    venv_bin, path_bin = tmp_path / "venv-bin", tmp_path / "bin"
    venv_bin.mkdir(), path_bin.mkdir()
    _script(venv_bin / "jupyter", 'echo "jupyter $*"')
    _script(venv_bin / "python", "echo 'no data here' >&2; exit 1")  # `d2lresnet data` fails
    _script(path_bin / "apt-get", "exit 100")  # root's offline fallback finds nothing either

    def run(uid, target="lab"):
        _script(path_bin / "id", f"echo {uid}")
        env = dict(os.environ, PATH=f"{path_bin}{os.pathsep}{os.environ['PATH']}")
        # -o setup: take the environment as set up (no venv is built here).
        return subprocess.run(["make", "-s", "--no-print-directory", "-o", "setup", target,
                               f"BIN={venv_bin}"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=600)
    return run


@pytest.mark.parametrize("uid, allow_root", [(0, True), (1000, False)])
def test_lab_opens_without_the_data_and_allows_root_only_for_root(make_lab, uid, allow_root):
    result = make_lab(uid)
    assert result.returncode == 0, result.stderr
    assert "warning: Fashion-MNIST is not on this machine" in result.stderr
    assert "make data" in result.stderr and "dataset-fashion-mnist" in result.stderr
    [command] = [line for line in result.stdout.splitlines() if line.startswith("jupyter")]
    assert command.split()[:2] == ["jupyter", "lab"] and command.endswith("notebooks/index.ipynb")
    assert ("--allow-root" in command) == allow_root


def test_the_file_browser_shows_one_file_per_notebook(make_lab):
    [command] = [line for line in make_lab(1000).stdout.splitlines()
                 if line.startswith("jupyter")]
    hidden = json.loads(re.search(r"--ContentsManager.hide_globs=(\[.*\])", command).group(1))
    shown = lambda path: not any(fnmatch.fnmatch(path.name, glob) for glob in hidden)
    twins = [p.with_suffix(".py") for p in ROOT.glob("notebooks/**/*.ipynb")
             if ".ipynb_checkpoints" not in str(p)]
    assert twins and all(p.exists() and not shown(p) for p in twins)
    assert all(shown(p) for p in ROOT.glob("notebooks/**/*.ipynb"))
    assert all(shown(p) for p in ROOT.glob("d2lresnet/**/*.py"))  # a student reads train.py
    assert "__pycache__" in hidden  # JupyterLab's own defaults kept


def test_lab_reads_notebooks_with_the_kernels_language_info(make_lab):
    # d2lresnet/labserver.py: a notebook opened is not modified (tests/test_labserver.py)
    [command] = [line for line in make_lab(1000).stdout.splitlines()
                 if line.startswith("jupyter")]
    assert "--ServerApp.contents_manager_class=d2lresnet.labserver.ContentsManager" in command


def test_make_data_still_fails_without_the_data(make_lab):
    # `make lab` only warns; `make data` (and so `make test`, `make train`) must stop.
    assert make_lab(1000, "data").returncode != 0
