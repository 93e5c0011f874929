"""tools/execute_notebook.py: notebooks for `make html` / `make slides` always finish."""
import asyncio
import concurrent.futures
import datetime
import json
import re
import subprocess
import sys
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


class Clock:
    """execute_notebook's time, standing still until a channel's wait moves it on: the tests
    count the seconds a wait would take instead of timing it, so no CPU is too slow for them."""

    def __init__(self):
        self.now = 1_700_000_000.0

    def monotonic(self):
        return self.now

    time = monotonic


class LostWakeUpChannel:
    """A channel whose message is waiting in the socket, but whose wake-up was lost: like
    zmq.asyncio's poll, get_msg finds it only when its own timeout ends, and never without one.
    The message was sent just after the wait began."""

    def __init__(self, clock, has_message=True):
        self.clock, self.has_message, self.polls = clock, has_message, []

    async def get_msg(self, timeout=None):
        self.polls.append(timeout)
        if timeout is None:
            await asyncio.Event().wait()  # nothing will ever wake this wait
        sent = self.clock.now + 0.01
        self.clock.now += timeout
        if not self.has_message:
            raise Empty
        return {"msg_type": "execute_reply", "header": {
            "date": datetime.datetime.fromtimestamp(sent, datetime.timezone.utc)}}


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(execute_notebook, "time", clock)
    monkeypatch.setattr(execute_notebook, "late_messages", 0)
    return clock


def test_a_lost_wake_up_costs_a_slice_not_the_cell_timeout(clock, monkeypatch):
    monkeypatch.setattr(execute_notebook, "SLICE_SECONDS", 0.2)
    channel = LostWakeUpChannel(clock)
    # nbclient's own wait: the whole cell timeout, or forever without one.
    assert run(channel.get_msg(timeout=3600)) and clock.now == 1_700_000_000.0 + 3600
    with pytest.raises(asyncio.TimeoutError):
        run(asyncio.wait_for(channel.get_msg(timeout=None), 0.05))
    for timeout in (3600, None):  # the shell wait, and IOPub's wait without a timeout
        channel.polls.clear()
        assert run(execute_notebook._in_slices(channel.get_msg)(timeout=timeout))
        assert channel.polls == [0.2]  # one slice, then the socket is polled directly
    assert execute_notebook.late_messages == 0  # read 0.19 s after it was sent: not late


def test_a_message_read_only_when_its_slice_ran_out_is_counted_late(clock, capsys):
    assert run(execute_notebook._in_slices(LostWakeUpChannel(clock).get_msg, "shell")(3600))
    assert execute_notebook.late_messages == 1
    assert "execute_reply on shell read 1.0 s after it was sent" in capsys.readouterr().err


def test_the_callers_timeout_still_holds(clock, monkeypatch):
    monkeypatch.setattr(execute_notebook, "SLICE_SECONDS", 0.2)
    channel = LostWakeUpChannel(clock, has_message=False)
    with pytest.raises(Empty):
        run(execute_notebook._in_slices(channel.get_msg)(timeout=0.7))
    # Slices of 0.2 s and what is left of 0.7 s: it gives up when the caller's time is up.
    assert channel.polls[:3] == [0.2] * 3 and channel.polls[3] == pytest.approx(0.1)
    assert len(channel.polls) == 4


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


def _notebook(path, cells=("1",)):
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]),
                   path)
    return path


def bad_input(tmp_path, case):
    """(arguments, what the one-line error must say) for a mistake a user can type."""
    good, out = _notebook(tmp_path / "good.ipynb"), tmp_path / "out"
    if case == "missing notebook":
        return [str(tmp_path / "missing.ipynb"), "--output-dir", str(out)], \
            "missing.ipynb: No such file or directory"
    if case == "a folder as notebook":
        return [str(tmp_path), "--output-dir", str(out)], "Is a directory"
    if case == "python file":
        (tmp_path / "x.py").write_text("print(1)\n")
        return [str(tmp_path / "x.py"), "--output-dir", str(out)], \
            "x.py is not a notebook: it is not JSON"
    if case == "JSON, no notebook":
        (tmp_path / "list.ipynb").write_text("[]")
        return [str(tmp_path / "list.ipynb"), "--output-dir", str(out)], \
            "list.ipynb is not a notebook"
    if case == "bad schema":
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
        del nb.cells[0]["outputs"]
        (path := tmp_path / "bad.ipynb").write_text(json.dumps(nb))
        return [str(path), "--output-dir", str(out)], \
            "bad.ipynb is not a valid notebook: 'outputs' is a required property"
    if case in ("output dir is a file", "output dir under a file"):
        (tmp_path / "afile").write_text("")
        folder = tmp_path / "afile" / ("sub" if "under" in case else "")
        return [str(good), "--output-dir", str(folder)], \
            f"{tmp_path / 'afile'} is a file, not a folder"
    raise ValueError(case)


BAD_INPUTS = ["missing notebook", "a folder as notebook", "python file", "JSON, no notebook",
              "bad schema", "output dir is a file", "output dir under a file"]


@pytest.mark.parametrize("case", BAD_INPUTS + ["the notebook's own folder"])
def test_a_mistake_is_one_line_before_anything_runs(tmp_path, case, monkeypatch, capsys):
    executed = []
    monkeypatch.setattr(execute_notebook, "execute", lambda *args: executed.append(args))
    if case == "the notebook's own folder":  # the executed copy would replace the source
        args = [str(_notebook(tmp_path / "nb.ipynb")), "--output-dir", str(tmp_path)]
        expected = f"would overwrite {tmp_path / 'nb.ipynb'}"
    else:
        args, expected = bad_input(tmp_path, case)
    (tmp_path / "ok").mkdir()
    good = _notebook(tmp_path / "ok" / "first.ipynb")  # it comes first, and must not run either
    assert execute_notebook.main([str(good), *args]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("error: ") and expected in line
    assert executed == []


def test_a_mistake_exits_2_with_no_traceback(tmp_path):
    args, expected = bad_input(tmp_path, "output dir is a file")
    result = subprocess.run([sys.executable, "-m", "tools.execute_notebook", *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 2 and result.stderr.strip().startswith("error: ")
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_make_executes_notebooks_with_it():
    makefile = (ROOT / "Makefile").read_text()
    rule = makefile[makefile.index("$(EXECUTED_DIR)/%.ipynb:"):]
    rule = rule[:rule.index("\n\n")]
    assert "tools.execute_notebook" in rule and "nbconvert" not in rule.split(":", 1)[1]


# Issue 35 items 12 and 15 -----------------------------------------------------------------

@pytest.mark.parametrize("option, value", [("--retries", "-1"), ("--timeout", "0")])
def test_a_count_below_its_least_is_a_usage_error(tmp_path, capsys, monkeypatch, option, value):
    # --retries -1 ran nothing and then said it "gave up after 0 attempts".
    monkeypatch.setattr(execute_notebook, "execute", lambda *args: pytest.fail("it ran"))
    with pytest.raises(SystemExit) as exit_:
        execute_notebook.main([str(_notebook(tmp_path / "nb.ipynb")), "--output-dir",
                               str(tmp_path / "out"), option, value])
    assert exit_.value.code == 2 and f"{option}: expected a whole number at least" \
        in capsys.readouterr().err


def test_a_read_only_output_folder_is_found_before_anything_runs(tmp_path, capsys, monkeypatch):
    from readonly import read_only
    monkeypatch.setattr(execute_notebook, "execute", lambda *args: pytest.fail("it ran"))
    (tmp_path / "ro").mkdir()
    with read_only(tmp_path / "ro"):
        assert execute_notebook.main([str(_notebook(tmp_path / "nb.ipynb")), "--output-dir",
                                      str(tmp_path / "ro" / "executed")]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("error: --output-dir") and "cannot write in" in line


def test_a_full_disk_is_one_line_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    class Ran:  # the notebook ran; only writing it fails
        def __init__(self, *args, **kwargs):
            pass

        def execute(self):
            pass

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(execute_notebook, "SlicedWaitClient", Ran)
    monkeypatch.setattr(execute_notebook.os, "replace", disk_full)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_:
        execute_notebook.execute(_notebook(tmp_path / "nb.ipynb"), out, 10, 0)
    assert str(exit_.value).startswith("error: ") and "No space left on device" in str(exit_.value)
    assert "\n" not in str(exit_.value) and list(out.iterdir()) == []  # no .tmp left


def test_the_executed_copy_never_writes_through_a_planted_link(tmp_path, monkeypatch):
    class Ran:
        def __init__(self, *args, **kwargs):
            pass

        def execute(self):
            pass

    monkeypatch.setattr(execute_notebook, "SlicedWaitClient", Ran)
    out, victim = tmp_path / "out", tmp_path / "victim"
    out.mkdir()
    victim.write_text("keep me")
    (out / "nb.ipynb.tmp").symlink_to(victim)  # the old fixed temporary name
    execute_notebook.execute(_notebook(tmp_path / "nb.ipynb"), out, 10, 0)
    assert victim.read_text() == "keep me" and nbformat.read(out / "nb.ipynb", as_version=4)
