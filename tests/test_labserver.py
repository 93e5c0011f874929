"""A notebook opened in JupyterLab is not modified by opening it (issue 33 §8): `make lab`'s
contents manager (d2lresnet/labserver.py) reads each notebook with the language_info its kernel
will report, whatever Python the student has, and `make sync` (tools/sync.py) stores it in a new
notebook. The browser test (test_browser.py) opens real notebooks in JupyterLab."""
import asyncio
import json
import os
import platform
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from d2lresnet.labserver import ContentsManager, language_info
from tools.sync import add_language_info

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
PYTHON = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
OTHER_PYTHON = {**language_info(), "version": "3.0.0"}


def _write(path, **metadata):
    nbformat.write(new_notebook(cells=[new_code_cell("1 + 1")], metadata=metadata), path)
    return path.read_bytes()


def test_language_info_is_what_the_kernel_reports():
    from jupyter_client.manager import start_new_kernel
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        reply = client.kernel_info(reply=True, timeout=600)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert reply["content"]["language_info"] == language_info()
    assert language_info()["version"] == platform.python_version()


def test_a_notebook_is_read_with_this_pythons_language_info(tmp_path):
    on_disk = _write(tmp_path / "other.ipynb", kernelspec=PYTHON, language_info=OTHER_PYTHON)
    _write(tmp_path / "none.ipynb", kernelspec=PYTHON)
    r_kernel = {"name": "ir", "display_name": "R", "language": "R"}
    _write(tmp_path / "r.ipynb", kernelspec=r_kernel, language_info={"name": "R"})
    manager = ContentsManager(root_dir=str(tmp_path))
    read = lambda name: asyncio.run(manager.get(name))["content"]["metadata"]  # noqa: E731
    assert read("other.ipynb")["language_info"] == language_info()
    assert read("none.ipynb")["language_info"] == language_info()
    assert read("r.ipynb")["language_info"] == {"name": "R"}  # not a Python kernel: left alone
    assert (tmp_path / "other.ipynb").read_bytes() == on_disk  # the file is not touched
    assert asyncio.run(manager.get("other.ipynb", content=False))["content"] is None


def test_sync_fills_in_language_info_once(tmp_path):
    new = tmp_path / "new.ipynb"
    _write(new, kernelspec=PYTHON)
    assert add_language_info(new)
    assert json.loads(new.read_text())["metadata"]["language_info"] == language_info()
    assert nbformat.reads(new.read_text(), as_version=4)  # still a valid notebook
    # A notebook that has one (synced on another Python) keeps it: no churn in git.
    old = tmp_path / "old.ipynb"
    on_disk = _write(old, kernelspec=PYTHON, language_info=OTHER_PYTHON)
    assert not add_language_info(old)
    assert old.read_bytes() == on_disk


@pytest.mark.parametrize("notebook", sorted(
    p for p in NOTEBOOKS.glob("**/*.ipynb") if ".ipynb_checkpoints" not in str(p)),
    ids=lambda p: p.relative_to(NOTEBOOKS).as_posix())
def test_every_notebook_carries_language_info(notebook):
    # `make sync` gives it; without it JupyterLab marks the notebook modified on opening.
    metadata = json.loads(notebook.read_text(encoding="utf-8"))["metadata"]
    assert metadata.get("language_info", {}).get("name") == "python", \
        f"{notebook.name} has no language_info: run `make sync`"


def test_a_pair_whose_ipynb_is_newer_opens_from_its_py(tmp_path):
    # After a pull that changes only the .ipynb (its metadata, say), the .ipynb is newer than
    # its .py; Jupytext would refuse to open the pair (HTTP 400) unless the two write the same
    # text, and our .py files write cell metadata in another order. jupytext.toml says the .py
    # is the source, whatever the times.
    shutil.copyfile(ROOT / "jupytext.toml", tmp_path / "jupytext.toml")
    for suffix in (".py", ".ipynb"):
        shutil.copyfile(NOTEBOOKS / "en" / f"02_residual_block{suffix}",
                        tmp_path / f"02{suffix}")
    newer = (tmp_path / "02.py").stat().st_mtime + 60
    os.utime(tmp_path / "02.ipynb", (newer, newer))
    notebook = asyncio.run(ContentsManager(root_dir=str(tmp_path)).get("02.ipynb"))["content"]
    import jupytext
    assert [c.source for c in notebook.cells] == \
        [c.source for c in jupytext.read(tmp_path / "02.py").cells]
