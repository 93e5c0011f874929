"""A folder nobody can write to, for tests, even when the tests run as root (as CI does)."""
import contextlib
import os
import stat
import subprocess

import pytest


@contextlib.contextmanager
def read_only(folder):
    """Make ``folder`` and everything in it unwritable for the duration of the block.

    chmod stops an ordinary user; root ignores permissions, so for root the folder is
    bind-mounted onto itself read-only (skipped where root may not mount)."""
    folder = str(folder)
    if os.geteuid() != 0:
        modes = {}
        for path in [folder] + [os.path.join(d, n) for d, ds, fs in os.walk(folder)
                                for n in ds + fs]:
            modes[path] = os.stat(path).st_mode
            os.chmod(path, modes[path] & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        try:
            yield
        finally:
            for path, mode in modes.items():
                os.chmod(path, mode)
        return
    for command in (["mount", "--bind", folder, folder],
                    ["mount", "-o", "remount,bind,ro", folder]):
        if subprocess.run(command, capture_output=True).returncode:
            subprocess.run(["umount", folder], capture_output=True)
            pytest.skip("running as root without permission to mount: cannot make a folder "
                        "read-only")
    try:
        yield
    finally:
        subprocess.run(["umount", folder], check=True)
