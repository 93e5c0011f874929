"""tools/torch_wheels.py with a D2LRESNET_TORCH_INDEX it cannot use: one line, not
http.client's traceback (issue 35 item 15)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools import torch_wheels

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("index", ["http://x y", "http://127.0.0.1:1/a b", "download.pytorch.org"])
def test_an_index_that_is_no_url_is_one_line_before_pip(index):
    result = subprocess.run([sys.executable, "tools/torch_wheels.py", "--dry-run"], cwd=ROOT,
                            env=dict(os.environ, D2LRESNET_TORCH="cpu",
                                     D2LRESNET_TORCH_INDEX=index),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip() == (f"D2LRESNET_TORCH_INDEX must be a URL (https://..., no "
                                     f"spaces), not {index!r}")


def test_the_probe_is_false_for_a_url_http_client_refuses():
    assert not torch_wheels.reachable("http://127.0.0.1:1/a b")
