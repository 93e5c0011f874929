"""The contents manager `make lab` starts JupyterLab with, so that opening a notebook changes
nothing in it.

As soon as a notebook's kernel answers, JupyterLab writes the kernel's ``language_info`` into the
notebook's metadata, Python's version among it ("3.11.7"). Where the file holds other values (or
none), the notebook is marked modified before any edit, and autosave writes the change into the
repository's files. No value stored in a file can match every student's Python, so this manager
hands JupyterLab each Python notebook with the values this Python's kernel will report: nothing
is left to change, and the files stay as committed until the student edits them. It is
Jupytext's manager (the .ipynb/.py pairs) with that one step added.
"""
import copy
import sys

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from jupytext.async_contentsmanager import build_async_jupytext_contents_manager_class


def language_info():
    """What ipykernel reports as ``language_info`` when it runs on this Python."""
    try:
        from ipykernel.ipkernel import IPythonKernel
    except ImportError:  # no kernel here: the values ipykernel computes from sys
        return {"name": "python", "version": sys.version.split()[0],
                "mimetype": "text/x-python",
                "codemirror_mode": {"name": "ipython", "version": sys.version_info[0]},
                "pygments_lexer": f"ipython{sys.version_info[0]}",
                "nbconvert_exporter": "python", "file_extension": ".py"}
    return copy.deepcopy(IPythonKernel.language_info)


def with_language_info(notebook_metadata):
    """NOTEBOOK_METADATA (a notebook's metadata, changed in place) with this Python's
    ``language_info``, if the notebook runs on a Python kernel; returns whether it did."""
    if notebook_metadata.get("kernelspec", {}).get("language") != "python":
        return False
    notebook_metadata["language_info"] = language_info()
    return True


class ContentsManager(build_async_jupytext_contents_manager_class(AsyncLargeFileManager)):
    """Jupytext's contents manager; a Python notebook is read with this Python's
    ``language_info`` (the file on disk is not touched)."""

    async def get(self, path, content=True, *args, **kwargs):
        model = await super().get(path, content, *args, **kwargs)
        if content and model.get("type") == "notebook" and model.get("content"):
            with_language_info(model["content"].setdefault("metadata", {}))
        return model
