"""tools/torch_wheels.py: CPU-only PyTorch wheels on Linux without an NVIDIA GPU, the default
wheels elsewhere or, chosen automatically, when PyTorch's index cannot be reached (as on our
build machines); D2LRESNET_TORCH=cpu asked for explicitly stops instead (issue 35 item 12)."""
import http.server
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tools import torch_wheels

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("setting, system, gpu, expected", [
    (None, "Linux", False, "cpu"),        # the case the CPU index is for
    ("auto", "Linux", True, "default"),   # nvidia-smi: PyPI's CUDA build
    ("", "Darwin", False, "default"),     # macOS and Windows wheels carry no CUDA libraries
    (None, "Windows", False, "default"),
    ("cpu", "Linux", True, "cpu"),        # the variable wins
    ("CPU", "Darwin", False, "cpu"),
    ("default", "Linux", False, "default"),
    ("cuda", "Linux", False, "default"),
])
def test_choice(setting, system, gpu, expected):
    assert torch_wheels.choose(setting, system, gpu)[0] == expected


def test_a_wrong_setting_is_refused():
    with pytest.raises(SystemExit, match="cpu, default, cuda or auto"):
        torch_wheels.choose("gpu", "Linux", False)


def test_requirements_follow_pyproject():
    assert [r.split(">")[0] for r in torch_wheels.requirements()] == ["torch", "torchvision"]


def _closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/whl/cpu"


@pytest.fixture
def index_server():
    """A local stand-in for the CPU index that answers for /whl/cpu/torch/."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/whl/cpu/torch/" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass
    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/whl/cpu"
    server.shutdown()


def test_probe_is_short_and_false_when_the_index_cannot_be_reached(index_server, monkeypatch):
    timeouts, urlopen = [], torch_wheels.urllib.request.urlopen

    def timed_urlopen(url, timeout):
        timeouts.append(timeout)
        return urlopen(url, timeout=timeout)
    monkeypatch.setattr(torch_wheels.urllib.request, "urlopen", timed_urlopen)
    assert not torch_wheels.reachable(_closed_port_url())
    assert not torch_wheels.reachable("not a url")
    assert timeouts == [torch_wheels.PROBE_TIMEOUT_S] * 2  # never the OS's minutes-long default
    assert torch_wheels.reachable(index_server)
    assert not torch_wheels.reachable(index_server + "/nowhere")


def _dry_run(**env):
    return subprocess.run([sys.executable, "tools/torch_wheels.py", "--dry-run"], cwd=ROOT,
                          env=dict(os.environ, **env), capture_output=True, text=True, check=True
                          ).stdout.splitlines()


@pytest.fixture
def linux_without_gpu(monkeypatch):
    """D2LRESNET_TORCH unset on Linux with no nvidia-smi: the automatic choice is the CPU index."""
    monkeypatch.delenv("D2LRESNET_TORCH", raising=False)
    monkeypatch.setattr(torch_wheels.platform, "system", lambda: "Linux")
    monkeypatch.setattr(torch_wheels.shutil, "which", lambda name: None)


def test_the_automatic_choice_falls_back_when_the_index_cannot_be_reached(
        linux_without_gpu, monkeypatch, capsys):
    monkeypatch.setenv("D2LRESNET_TORCH_INDEX", _closed_port_url())
    commands = []

    def run(command):
        commands.append(command)
        return subprocess.CompletedProcess(command, 0)
    assert torch_wheels.main([], run=run) == 0
    [command] = commands
    assert "--index-url" not in command and any(c.startswith("torch>=") for c in command)
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith("torch: the default wheels from PyPI") and "cannot be reached" in line


def test_an_explicit_cpu_choice_stops_when_the_index_cannot_be_reached():
    index = _closed_port_url()
    result = subprocess.run([sys.executable, "tools/torch_wheels.py", "--dry-run"], cwd=ROOT,
                            env=dict(os.environ, D2LRESNET_TORCH="cpu",
                                     D2LRESNET_TORCH_INDEX=index),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 1 and result.stdout == "", result.stdout  # no pip command
    [line] = result.stderr.splitlines()  # one line, no traceback
    assert f"D2LRESNET_TORCH=cpu, but the CPU index {index} cannot be reached" in line
    assert "D2LRESNET_TORCH_INDEX" in line and "unset D2LRESNET_TORCH" in line


def test_uses_the_cpu_index_when_it_answers(index_server):
    line, command = _dry_run(D2LRESNET_TORCH="cpu", D2LRESNET_TORCH_INDEX=index_server)
    assert line == f"torch: CPU-only wheels from {index_server} (D2LRESNET_TORCH=cpu)"
    assert command.endswith(f"--index-url {index_server}")


@pytest.mark.parametrize("setting", [None, "auto"])
def test_a_failed_automatic_cpu_install_falls_back_to_the_default_wheels(
        setting, linux_without_gpu, index_server, monkeypatch, capsys):
    if setting:
        monkeypatch.setenv("D2LRESNET_TORCH", setting)
    monkeypatch.setenv("D2LRESNET_TORCH_INDEX", index_server)
    commands = []

    def run(command):  # the CPU install fails (say, no wheel for this Python), PyPI works
        commands.append(command)
        return subprocess.CompletedProcess(command, 1 if "--index-url" in command else 0)
    assert torch_wheels.main([], run=run) == 0
    assert ["--index-url" in c for c in commands] == [True, False]
    assert "failed to install; the default wheels instead" in capsys.readouterr().out


def test_a_failed_explicit_cpu_install_stops_without_the_default_wheels(index_server,
                                                                         monkeypatch):
    monkeypatch.setenv("D2LRESNET_TORCH", "cpu")
    monkeypatch.setenv("D2LRESNET_TORCH_INDEX", index_server)
    commands = []

    def run(command):
        commands.append(command)
        return subprocess.CompletedProcess(command, 1 if "--index-url" in command else 0)
    with pytest.raises(SystemExit) as stopped:
        torch_wheels.main([], run=run)
    assert ["--index-url" in c for c in commands] == [True]  # never the CUDA wheels
    message = str(stopped.value.code)
    assert "\n" not in message and "D2LRESNET_TORCH=cpu" in message
    assert "failed to install" in message and "unset D2LRESNET_TORCH" in message


@pytest.fixture
def pip(monkeypatch):
    """The pip commands main would run, none of them run; the default wheels, so no probe."""
    monkeypatch.setenv("D2LRESNET_TORCH", "default")
    commands = []

    def run(command):
        commands.append(command)
        return subprocess.CompletedProcess(command, 0)
    run.commands = commands
    return run


def test_help_says_what_it_does_and_installs_nothing(pip, capsys):
    with pytest.raises(SystemExit) as stopped:
        torch_wheels.main(["--help"], run=pip)
    assert stopped.value.code == 0 and pip.commands == []
    out = capsys.readouterr().out
    assert "--dry-run" in out and "D2LRESNET_TORCH" in out and "CPU-only wheels" in out


@pytest.mark.parametrize("argv", [["--dryrun"], ["-n"], ["install"], ["--dry-run", "-y"]])
def test_an_unknown_argument_is_refused_before_pip(pip, argv, capsys):
    with pytest.raises(SystemExit) as stopped:
        torch_wheels.main(argv, run=pip)
    assert stopped.value.code == 2 and pip.commands == []
    assert "unrecognized arguments" in capsys.readouterr().err


def test_the_makefiles_call_installs(pip):
    makefile = (ROOT / "Makefile").read_text()
    [call] = [line for line in makefile.splitlines() if "tools/torch_wheels.py" in line
              and line.startswith("\t")]
    assert torch_wheels.main(call.split("tools/torch_wheels.py", 1)[1].split(), run=pip) == 0
    [command] = pip.commands
    assert command[1:4] == ["-m", "pip", "install"] and "--index-url" not in command


def test_dry_run_installs_nothing(pip, capsys):
    assert torch_wheels.main(["--dry-run"], run=pip) == 0 and pip.commands == []
    assert capsys.readouterr().out.splitlines()[-1].startswith("would run: ")
