"""`make sync`, after Jupytext has written each .ipynb from its .py: give a notebook that lacks it
the ``language_info`` its kernel reports (d2lresnet.labserver), which JupyterLab writes into a
notebook as soon as the kernel answers. Without it, a notebook opened in JupyterLab counts as
modified before any edit. Jupytext keeps it on later syncs (``--update``), so this only fills
in new notebooks: a sync on another Python changes nothing already committed.

    python -m tools.sync notebooks/en/*.ipynb
"""
import argparse
import json
from pathlib import Path

from d2lresnet.labserver import with_language_info


def dumps(notebook):
    """The text Jupytext and nbformat write for NOTEBOOK (so an unchanged file stays unchanged)."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def add_language_info(path):
    """Give the notebook at PATH its kernel's language_info if it has none; True if written."""
    path = Path(path)
    notebook = json.loads(path.read_text(encoding="utf-8"))
    metadata = notebook.setdefault("metadata", {})
    if "language_info" in metadata or not with_language_info(metadata):
        return False
    path.write_text(dumps(notebook), encoding="utf-8")
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    for path in parser.parse_args(argv).notebooks:
        if add_language_info(path):
            print(f"[sync] {path}: language_info added")


if __name__ == "__main__":
    main()
