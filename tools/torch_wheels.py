"""Install torch and torchvision into the running Python, choosing which wheels.

On Linux without an NVIDIA GPU, PyPI's torch is a CUDA build: gigabytes of CUDA libraries that
can never run there. So on such a machine take PyTorch's CPU-only wheels from its own index,
and fall back to the default wheels when that index cannot be reached (a closed network, a
local mirror) or its wheels fail to install; D2LRESNET_TORCH=cpu set by hand never falls back,
it stops with one line. Elsewhere the default wheels are right: on macOS and Windows PyPI's
wheels have no CUDA libraries, and with an NVIDIA GPU the CUDA build is the point.

D2LRESNET_TORCH=cpu|default|cuda overrides the choice (cuda = the default wheels, which on Linux
are the CUDA build). Prints one line saying which wheels it used, and why.

    python tools/torch_wheels.py            # make setup runs this with .venv's Python
    python tools/torch_wheels.py --dry-run  # say what it would do
"""
import sys

if sys.version_info < (3, 11):  # before anything newer is imported: say it plainly
    sys.exit(f"d2lresnet needs Python 3.11 or newer; this is {sys.version.split()[0]}. "
             "Install a newer Python and run e.g. `make PYTHON=python3.12 lab` after `make clean`.")

import argparse
import http.client
import os
import platform
import re
import shlex
import shutil
import subprocess
import tomllib
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PROBE_TIMEOUT_S = 5  # the index answers in well under a second where it can be reached


def requirements():
    """torch and torchvision as pyproject.toml asks for them (e.g. "torch>=2.4")."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return [d for d in dependencies if re.match(r"(torch|torchvision)\b", d)]


def choose(setting, system, has_nvidia_gpu):
    """("cpu" or "default", the reason) for a D2LRESNET_TORCH setting on this machine."""
    setting = (setting or "auto").strip().lower()
    if setting in ("cpu", "default"):
        return setting, f"D2LRESNET_TORCH={setting}"
    if setting == "cuda":
        return "default", "D2LRESNET_TORCH=cuda; on Linux these are the CUDA build"
    if setting != "auto":
        raise SystemExit(f"D2LRESNET_TORCH must be cpu, default, cuda or auto, not {setting!r}")
    if system != "Linux":
        return "default", f"{system}: they carry no CUDA libraries"
    if has_nvidia_gpu:
        return "default", "nvidia-smi found: the CUDA build"
    return "cpu", "Linux with no nvidia-smi, so no NVIDIA GPU"


def reachable(index, timeout=PROBE_TIMEOUT_S):
    """Whether the index answers for torch, within a short timeout."""
    try:
        with urllib.request.urlopen(f"{index.rstrip('/')}/torch/", timeout=timeout):
            return True
    except (OSError, ValueError, http.client.HTTPException):  # URLError, refused, timed
        return False                                           # out, DNS, malformed URL


def pip_install(kind, index):
    command = [sys.executable, "-m", "pip", "install", *requirements()]
    return command + ["--index-url", index] if kind == "cpu" else command


def main(argv=None, run=subprocess.run):
    parser = argparse.ArgumentParser(
        prog="tools/torch_wheels.py", description=__doc__.split("\n\n    python")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true",
                        help="say which wheels and print the pip command; install nothing")
    dry_run = parser.parse_args(argv).dry_run  # --help or a typo stops here, before pip
    index = os.environ.get("D2LRESNET_TORCH_INDEX", CPU_INDEX)
    if not re.fullmatch(r"(https?|file)://\S+", index):  # a space: http.client's traceback
        raise SystemExit(f"D2LRESNET_TORCH_INDEX must be a URL (https://..., no spaces), "
                         f"not {index!r}")
    kind, why = choose(os.environ.get("D2LRESNET_TORCH"), platform.system(),
                       shutil.which("nvidia-smi") is not None)
    explicit = why.startswith("D2LRESNET_TORCH=")  # asked for by hand: never swapped silently
    if kind == "cpu" and not reachable(index):
        if explicit:
            raise SystemExit(f"torch: D2LRESNET_TORCH=cpu, but the CPU index {index} cannot be "
                             f"reached; check the network, point D2LRESNET_TORCH_INDEX at a "
                             f"mirror, or unset D2LRESNET_TORCH to take the default wheels")
        kind, why = "default", f"{why}, but {index} cannot be reached"
    where = f"CPU-only wheels from {index}" if kind == "cpu" else "the default wheels from PyPI"
    print(f"torch: {where} ({why})", flush=True)
    if dry_run:
        print("would run:", shlex.join(pip_install(kind, index)))
        return 0
    if kind == "cpu" and run(pip_install("cpu", index)).returncode != 0:
        if explicit:
            raise SystemExit(f"torch: D2LRESNET_TORCH=cpu, but the CPU-only wheels from {index} "
                             f"failed to install (pip says why above); unset D2LRESNET_TORCH "
                             f"to take the default wheels")
        print("torch: the CPU-only wheels failed to install; the default wheels instead",
              flush=True)
        kind = "default"
    if kind == "default":
        return run(pip_install("default", index)).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
