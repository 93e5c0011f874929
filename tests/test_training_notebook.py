"""Notebook 05 (training) run as plain Python, smoke preset: it must clean up after itself."""
import tempfile
from pathlib import Path

import jupytext
import matplotlib

NOTEBOOK = Path(__file__).parent.parent / "notebooks" / "en" / "05_training.py"


def test_notebook_05_leaves_no_temporary_files(tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.setenv("D2LRESNET_PRESET", "smoke")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where mkdtemp & co. write
    monkeypatch.chdir(NOTEBOOK.parent)  # as Jupyter runs it: ../figures/ is the saved runs
    code = [cell.source for cell in jupytext.read(NOTEBOOK).cells if cell.cell_type == "code"]
    assert any("torch.save" in source for source in code)  # the saving cell is there
    namespace = {}
    for source in code:
        exec(compile(source, str(NOTEBOOK), "exec"), namespace)
    # torchinductor_USER is PyTorch's own compile cache, shared by every run: not a leftover.
    leftovers = [p for p in tmp_path.iterdir() if not p.name.startswith("torchinductor_")]
    assert not leftovers, f"left behind: {leftovers}"
