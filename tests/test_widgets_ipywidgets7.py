"""The widgets on ipywidgets 7.7.1, the version Colab ships: test_widgets.py again, in a
subprocess that finds 7.7.1 first on its path. 7.7.1 is installed once into a side folder
(cached under ~/.cache/d2lresnet-tests), so the project's own environment keeps ipywidgets 8."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VERSION = "7.7.1"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "d2lresnet-tests"
SIDE = CACHE / f"ipywidgets-{VERSION}"


@pytest.fixture(scope="module")
def side_path():
    if not (SIDE / "ipywidgets").is_dir():
        partial = CACHE / f"ipywidgets-{VERSION}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        # The kernel side only: ipywidgets 7 imports ipython_genutils; its other requirements
        # (widgetsnbextension, jupyterlab_widgets) are browser code, and the rest is installed.
        result = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
             str(partial), f"ipywidgets=={VERSION}", "ipython_genutils"],
            capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            message = f"could not install ipywidgets {VERSION}:\n{result.stderr[-2000:]}"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message + "\n(no PyPI here?) it runs in CI")
        partial.rename(SIDE)
    return os.pathsep.join(filter(None, [str(SIDE), os.environ.get("PYTHONPATH")]))


def test_the_widgets_work_on_colabs_ipywidgets(side_path):
    env = dict(os.environ, PYTHONPATH=side_path, MPLBACKEND="Agg")
    version = subprocess.run(
        [sys.executable, "-c", "import ipywidgets; print(ipywidgets.__version__)"],
        env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert version == VERSION
    # ipywidgets 7 on a current ipykernel warns about its Comm class on every widget: not ours.
    result = subprocess.run([sys.executable, "-m", "pytest", "tests/test_widgets.py", "-q",
                             "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1]
