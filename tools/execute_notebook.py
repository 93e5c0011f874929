"""Execute notebooks for `make html` / `make slides`, and always finish.

    python -m tools.execute_notebook --output-dir build/executed/smoke notebooks/en/02_*.ipynb

Why not `jupyter nbconvert --execute`: nbclient waits for a cell's reply with one poll of the
shell socket lasting the whole cell timeout, and when that poll's wake-up is lost (a widget
cell's comm traffic can make it so) the reply sits unread until the timeout, or forever.
Here every wait on the shell and IOPub channels is cut into slices of a second: when a slice
ends, pyzmq polls the socket directly, so a waiting message is read at most a second late.
As a last resort a cell that still passes --timeout stops the run, and the notebook is run
again in a fresh kernel (--retries); nothing is written unless the notebook ran to the end
without an error. Every notebook and the output folder are checked before the first runs.
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from queue import Empty

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

SLICE_SECONDS = 1.0
# Messages that arrived while we waited, yet were read only when the slice ran out, more than
# LATE_SECONDS after the kernel sent them: their wake-up was lost. Counted, to show it happens.
LATE_SECONDS = 0.5
late_messages = 0


def _in_slices(get_msg, channel_name="a channel"):
    """get_msg(timeout), waiting at most SLICE_SECONDS per poll of the socket."""
    async def get_msg_in_slices(timeout=None):
        global late_messages
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            wait = SLICE_SECONDS if left is None else max(min(SLICE_SECONDS, left), 0)
            waiting_since = time.time()
            try:
                msg = await get_msg(timeout=wait)
            except Empty:
                if left is not None and left <= SLICE_SECONDS:
                    raise  # the caller's own timeout has passed
                continue
            sent, now = msg["header"]["date"].timestamp(), time.time()
            if waiting_since < sent < now - LATE_SECONDS and now - waiting_since >= wait:
                late_messages += 1
                print(f"{msg['msg_type']} on {channel_name} read {now - sent:.1f} s after it was "
                      f"sent: its wake-up was lost", file=sys.stderr)
            return msg
    return get_msg_in_slices


class SlicedWaitClient(NotebookClient):
    """nbclient, with every wait on the shell and IOPub channels cut into short polls."""

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        for name in ("shell", "iopub"):
            channel = getattr(kc, f"{name}_channel")
            channel.get_msg = _in_slices(channel.get_msg, name)
        return kc


def read_notebook(path):
    """The notebook at path (nbformat 4), or a ValueError saying in one line why it is none."""
    invalid = {}
    try:
        nb = nbformat.read(path, as_version=4, capture_validation_error=invalid)
    except OSError as err:  # missing, a folder, unreadable
        raise ValueError(f"{path}: {err.strerror or err}") from None
    except nbformat.reader.NotJSONError:
        raise ValueError(f"{path} is not a notebook: it is not JSON") from None
    # JSON, but no notebook ("[]", "{}", an unknown nbformat, text that is not UTF-8)
    except (ValueError, AttributeError, KeyError, TypeError, nbformat.ValidationError) as err:
        raise ValueError(f"{path} is not a notebook: {_first_line(err)}") from None
    if invalid:
        raise ValueError(f"{path} is not a valid notebook: "
                         f"{_first_line(invalid['ValidationError'])}")
    return nb


def _first_line(err):
    return (getattr(err, "message", None) or str(err)).splitlines()[0]


def check_output_dir(output_dir):
    """A ValueError if output_dir is a file, lies inside one, or lies in a folder this process
    cannot write (a read-only disk, no permission): found before anything runs, not after."""
    output_dir = Path(output_dir)
    existing = next(p for p in (output_dir, *output_dir.parents) if p.exists())
    if not existing.is_dir():
        raise ValueError(f"--output-dir {output_dir}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):  # EROFS for root too
        why = "a read-only disk" if _read_only_disk(existing) else "permission denied"
        raise ValueError(f"--output-dir {output_dir}: cannot write in {existing} ({why})")


def _read_only_disk(folder):
    return bool(getattr(os, "statvfs", None) and os.statvfs(folder).f_flag & os.ST_RDONLY)


def write_new(target, text):
    """Write text to target through a new file of its own beside it (O_EXCL: never through a
    link planted there), renamed into place only when whole: a full disk leaves the old file,
    or none, and no temporary file."""
    target = Path(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def execute(path, output_dir, timeout, retries):
    """Run the notebook at path; write it, outputs and widget state included, to output_dir."""
    path = Path(path)
    for attempt in range(1, retries + 2):
        nb = read_notebook(path)
        client = SlicedWaitClient(nb, timeout=timeout, kernel_name="python3",
                                  store_widget_state=True,
                                  resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()
            break
        except CellExecutionError as err:  # a cell raised: running again would not help
            raise SystemExit(f"{path}: a cell failed\n{err}") from None
        except (CellTimeoutError, DeadKernelError) as err:
            print(f"{path}: attempt {attempt} stopped: {str(err).splitlines()[0]}",
                  file=sys.stderr)
    else:
        raise SystemExit(f"{path}: gave up after {retries + 1} attempts")
    target = output_dir / path.name
    try:  # make never sees half a notebook as up to date
        output_dir.mkdir(parents=True, exist_ok=True)
        write_new(target, nbformat.writes(nb))
    except OSError as err:
        raise SystemExit(f"error: {path} ran, but {target} cannot be written: "
                         f"{err.strerror or err}") from None


def _at_least(minimum):
    def whole_number(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number at least {minimum}, "
                                             f"got {value}")
        return value
    return whole_number


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--timeout", type=_at_least(1), default=3600, help="seconds per cell")
    parser.add_argument("--retries", type=_at_least(0), default=1,
                        help="runs of a notebook after one that timed out (0: none)")
    args = parser.parse_args(argv)
    try:  # before the first run, which may take an hour
        for path in args.notebooks:
            read_notebook(path)
            if (args.output_dir / path.name).resolve() == path.resolve():
                raise ValueError(f"--output-dir {args.output_dir} would overwrite {path}")
        check_output_dir(args.output_dir)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in args.notebooks:
        started = time.monotonic()
        execute(path, args.output_dir, args.timeout, args.retries)
        print(f"{path}: executed in {time.monotonic() - started:.1f} s "
              f"({late_messages} message(s) found late, by the end of a wait slice)",
              file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
