"""tools/execute_notebook.py: notebooks for `make html` / `make slides` always finish."""
import asyncio
import concurrent.futures
import datetime
import re
import subprocess
import sys
import time
from pathlib import Path
from queue import Empty

import nbformat
import pytest

from tools import execute_notebook

ROOT = Path(__file__).parent.parent


def run(coroutine):
    """asyncio.run in a thread of its own: pytest-playwright's sync fixtures keep an event loop
    running in the test thread for the whole session, and asyncio.run refuses to nest in it."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class LostWakeUpChannel:
    """A channel whose message is waiting in the socket, but whose wake-up was lost: like
    zmq.asyncio's poll, get_msg finds it only when its own timeout ends, and never without one."""

    def __init__(self, has_message=True):
        self.has_message, self.polls = has_message, []

    async def get_msg(self, timeout=None):
        self.polls.append(timeout)
        if timeout is None:
            await asyncio.Event().wait()  # nothing will ever wake this wait
        await asyncio.sleep(timeout)
        if not self.has_message:
            raise Empty
        return {"msg_type": "execute_reply",
                "header": {"date": datetime.datetime.now(datetime.timezone.utc)}}


def test_a_lost_wake_up_costs_a_slice_not_the_cell_timeout(monkeypatch):
    monkeypatch.setattr(execute_notebook, "SLICE_SECONDS", 0.2)
    channel = LostWakeUpChannel()

    async def wait(get_msg, timeout):
        return await asyncio.wait_for(get_msg(timeout=timeout), 3)

    with pytest.raises(asyncio.TimeoutError):  # nbclient's wait: the whole cell timeout
        run(wait(channel.get_msg, 3600))
    started = time.monotonic()
    for timeout in (3600, None):  # the shell wait, and IOPub's wait without a timeout
        assert run(wait(execute_notebook._in_slices(channel.get_msg), timeout))
    assert time.monotonic() - started < 1
    assert channel.polls[-2:] == [0.2, 0.2]


def test_the_callers_timeout_still_holds(monkeypatch):
    monkeypatch.setattr(execute_notebook, "SLICE_SECONDS", 0.2)
    get_msg = execute_notebook._in_slices(LostWakeUpChannel(has_message=False).get_msg)
    started = time.monotonic()
    with pytest.raises(Empty):
        run(get_msg(timeout=0.7))
    assert 0.6 < time.monotonic() - started < 1.5


def test_a_widget_notebook_is_executed_with_its_widget_state(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import ipywidgets as w\n"
                                  "box = w.interactive(lambda x: x * 2, x=w.IntSlider(3))\n"
                                  "assert box.result == 6\nbox"),
        nbformat.v4.new_code_cell("print('after the widget')"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}})
    nbformat.write(nb, tmp_path / "widget.ipynb")
    result = subprocess.run([sys.executable, "-m", "tools.execute_notebook", "--timeout", "120",
                             "--output-dir", str(tmp_path / "out"), str(tmp_path / "widget.ipynb")],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert re.search(r"widget.ipynb: executed in [\d.]+ s", result.stderr)
    executed = nbformat.read(tmp_path / "out" / "widget.ipynb", as_version=4)
    assert executed.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert executed.cells[1].outputs[0].text == "after the widget\n"


def test_a_failing_cell_fails_the_run_and_writes_nothing(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")], metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, tmp_path / "broken.ipynb")
    result = subprocess.run([sys.executable, "-m", "tools.execute_notebook", "--output-dir",
                             str(tmp_path / "out"), str(tmp_path / "broken.ipynb")],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "ZeroDivisionError" in result.stderr
    assert not (tmp_path / "out").exists()


def test_make_executes_notebooks_with_it():
    makefile = (ROOT / "Makefile").read_text()
    rule = makefile[makefile.index("$(EXECUTED_DIR)/%.ipynb:"):]
    rule = rule[:rule.index("\n\n")]
    assert "tools.execute_notebook" in rule and "nbconvert" not in rule.split(":", 1)[1]
