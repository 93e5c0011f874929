"""Checkpoints that are either whole and right, or refused with one line saying why.

A checkpoint is an ordinary ``torch.save`` file (``torch.load(path, weights_only=True)`` reads
it) whose zip comment, the last bytes of the file, holds the SHA-256 of every byte before it:
one flipped byte anywhere is reported instead of loaded. It is written to a temporary file of
its own beside PATH (two runs sharing a path never share it) and renamed into place only when
complete, and Ctrl-C during the write is held until the rename, so "epoch N is saved" is true
when it is said. It holds the recipe it was trained with: a resume under another recipe is
refused, naming the fields that differ.

One run writes a checkpoint at a time: check_new_or_resumed takes a lock (``.NAME.lock`` beside
it, held by this process until the run's last epoch is saved, it is interrupted, or the
process ends) and a second run of the same file is refused, naming the first one's process.
A link given as the path stays a link (the file it points to is written), and temporary files
that a killed run left behind are removed when the next run takes the lock.
"""
import contextlib
import dataclasses
import glob
import hashlib
import io
import math
import os
import signal
import stat
import struct
import tempfile
import threading
from pathlib import Path

import torch

try:
    import fcntl  # POSIX: the lock that keeps two runs off one checkpoint
except ImportError:  # Windows: no lock
    fcntl = None

FORMAT = "d2lresnet checkpoint 3"  # 2: the recipe is saved with the run; 3: the optimizer
# holds parameter groups (weights; norms and biases; BatchNorm's beta) and the recipe its tricks
OLDER_FORMATS = {"d2lresnet checkpoint 1": "without its recipe",
                 "d2lresnet checkpoint 2": "before the recipe had its warm-up and tricks, with "
                                           "one optimizer group where there are now three"}
FIELDS = ("format", "epoch", "model", "optimizer", "scheduler", "history", "recipe")
_END_OF_ZIP = b"PK\x05\x06"  # the zip's end record: 22 bytes, then its comment
_DIGEST_SIZE = 64            # a hex SHA-256


class CheckpointError(ValueError):
    """Not a d2lresnet checkpoint, not one for this run, or a path that cannot be written."""


def _real(path):
    """Where writing ``path`` lands: the file a link points to, so the link stays a link."""
    return Path(os.path.realpath(path))


_LOCKS = {}  # the real path of each checkpoint this process writes: (lock file, its fd)


def _lock(path):
    """Take ``path``'s lock for this process (again: nothing to do); CheckpointError if
    another process holds it. True if it was taken now."""
    real = _real(path)
    if fcntl is None or str(real) in _LOCKS:
        return False
    lock = real.with_name(f".{real.name}.lock")
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise CheckpointError(f"{path} is being written by another run (process {owner}); "
                                  f"wait for it to end, or name another path") from None
        try:  # the file we locked is still the one at that name (not removed by its last owner)
            same = os.path.samestat(os.fstat(fd), os.stat(lock, follow_symlinks=False))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    _LOCKS[str(real)] = (lock, fd)
    # Any temporary file of this checkpoint is now a killed run's: no other writer is left.
    for stale in real.parent.glob(f".{glob.escape(real.name)}.*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()
    return True


def release_lock(path):
    """Let other processes write ``path`` again (nothing if this process holds no lock)."""
    held = _LOCKS.pop(str(_real(path)), None)
    if held:
        lock, fd = held
        with contextlib.suppress(OSError):
            lock.unlink()  # while still held: a process that opened it finds it gone, retries
        os.close(fd)


def _regular_or_none(path):
    """Refuse a path that exists but is no regular file (a FIFO would block a read forever)."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):  # nothing there yet; its folders are
        return                                       # check_writable's to judge
    except OSError as err:
        raise CheckpointError(f"cannot use the checkpoint {path}: {err.strerror or err}") from None
    if stat.S_ISDIR(mode):
        raise CheckpointError(f"cannot write the checkpoint {path}: it is a folder; name a file "
                              f"inside it, e.g. {Path(path) / 'resnet18.pt'}")
    if not stat.S_ISREG(mode):
        raise CheckpointError(f"cannot use the checkpoint {path}: it is not a regular file "
                              f"(a pipe, a device or a socket); name a file")


def _open_tmp(path):
    """A new file of its own in path's folder (the rename stays on one disk): its file, path."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)  # as open() would make it, not mkstemp's owner-only 0600
    return os.fdopen(fd, "wb"), Path(name)


@contextlib.contextmanager
def _ctrl_c_held():
    """Hold Ctrl-C until the block ends, then raise it: a write is never cut in half."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    pressed = []
    previous = signal.signal(signal.SIGINT, lambda *_: pressed.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed:
        raise KeyboardInterrupt


def _seal(data):
    """Set the zip comment to the SHA-256 of everything before it (torch.save writes none)."""
    if data[-22:-18] != _END_OF_ZIP or data[-2:] != b"\0\0":
        raise RuntimeError("torch.save wrote an unexpected layout; cannot add a checksum")
    data = data[:-2] + struct.pack("<H", _DIGEST_SIZE)
    return data + hashlib.sha256(data).hexdigest().encode()


def check_writable(path):
    """Raise CheckpointError now if ``path`` cannot take a checkpoint, rather than after an
    epoch of training: a folder, a parent that is a file, a read-only disk."""
    if str(path).endswith(("/", os.sep)):  # Path() would drop the slash: newdir/ -> newdir
        raise CheckpointError(f"cannot write the checkpoint {path}: it names a folder; name a "
                              f"file inside it, e.g. {Path(path) / 'resnet18.pt'}")
    _regular_or_none(path)
    path = _real(path)
    parent = next(p for p in path.parents if p.exists())
    if not parent.is_dir():
        raise CheckpointError(f"cannot write the checkpoint {path}: {parent} is a file, "
                              f"not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        f, tmp = _open_tmp(path)
        f.close()
        tmp.unlink()
    except OSError as err:
        raise CheckpointError(f"cannot write the checkpoint {path}: "
                              f"{err.strerror or err}") from None


def check_new_or_resumed(path, resume):
    """Refuse, before any training, a path that cannot take the checkpoint, a file that
    resume=False would replace, or a checkpoint another run is writing; then hold its lock
    (see the module docstring)."""
    if path is not None and not str(path):
        raise CheckpointError("the checkpoint path is empty; name a file, e.g. runs/resnet18.pt")
    if not path:
        return
    check_writable(path)
    taken = _lock(path)
    try:
        if not resume and Path(path).exists():
            raise CheckpointError(f"{path} already exists; resume=True (--resume) continues it, "
                                  f"or name another path (nothing was overwritten)")
    except CheckpointError:
        if taken:
            release_lock(path)
        raise


def save_checkpoint(path, net, optimizer, scheduler, history, epoch, recipe):
    """Save the training state after ``epoch`` finished epochs (history: a dataclass or dict;
    recipe: a dict of plain values); see the module docstring."""
    path = _real(path)  # a link stays a link
    if dataclasses.is_dataclass(history):
        history = dataclasses.asdict(history)
    with _ctrl_c_held():
        buffer = io.BytesIO()
        torch.save({"format": FORMAT, "epoch": epoch, "model": net.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict() if scheduler else None,
                    "history": history, "recipe": dict(recipe)}, buffer)
        data = _seal(buffer.getvalue())
        path.parent.mkdir(parents=True, exist_ok=True)
        f, tmp = _open_tmp(path)
        try:
            with f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())  # on disk before the rename makes it the checkpoint
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)  # never leave 45 MB of half a checkpoint behind
            raise
    if epoch >= recipe.get("num_epochs", math.inf):
        release_lock(path)  # the run's last epoch: its checkpoint is free for the next run


def _describe(state):
    """Why ``state`` (what torch.load returned) is not a checkpoint's content, or None."""
    if not isinstance(state, dict):
        return f"it holds a {type(state).__name__}, not a dict of training state"
    if state and all(isinstance(value, torch.Tensor) for value in state.values()):
        return ("it is a plain state_dict (weights only, no training state); load it with "
                "net.load_state_dict(torch.load(path, weights_only=True))")
    if str(state.get("format", "")).startswith("d2lresnet checkpoint") \
            and state["format"] != FORMAT:
        why = OLDER_FORMATS.get(state["format"], "another version")
        return (f"its format is {state['format']!r}, not {FORMAT!r} (saved by an older "
                f"d2lresnet, {why}); start afresh")
    missing = [name for name in FIELDS if name not in state]
    extra = [str(name) for name in state if name not in FIELDS]
    if missing or extra:
        return "; ".join(part for part in [
            missing and f"fields missing: {', '.join(missing)}",
            extra and f"unexpected fields: {', '.join(extra)}"] if part)
    if state["format"] != FORMAT:
        return f"its format is {state['format']!r}, not {FORMAT!r}"
    epoch, history = state["epoch"], state["history"]
    if not isinstance(epoch, int) or epoch < 1:
        return f"its epoch is {epoch!r}, not a whole number of at least 1"
    if not isinstance(history, dict) or len(history.get("test_acc", ())) != epoch:
        return f"its history does not hold the {epoch} epoch(s) it claims"
    return None


def read_checkpoint(path):
    """The checkpoint's dict, checked: raise CheckpointError ("... is not a d2lresnet
    checkpoint: why") for an empty file, text, a plain state_dict, wrong fields, a changed
    byte, or a pickle that would run code (never unpickled beyond weights_only)."""
    path = Path(path)
    # Opened without waiting and checked before reading: a FIFO would block read_bytes forever.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with open(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise CheckpointError(f"{path} is not a d2lresnet checkpoint: it is not a regular "
                                  f"file (a pipe, a device or a socket)")
        data = f.read()

    def refuse(why):
        return CheckpointError(f"{path} is not a d2lresnet checkpoint: {why}")

    if not data:
        raise refuse("the file is empty")
    if not data.startswith(b"PK\x03\x04"):
        raise refuse(f"it is not a file torch.save writes (it begins {data[:12]!r})")
    body, digest = data[:-_DIGEST_SIZE], data[-_DIGEST_SIZE:]
    sealed = body[-22:-18] == _END_OF_ZIP and body[-2:] == struct.pack("<H", _DIGEST_SIZE)
    if sealed and hashlib.sha256(body).hexdigest().encode() != digest:
        raise refuse("its SHA-256 checksum does not match its bytes: the file was changed or "
                     "damaged after it was written")
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:  # pickle.UnpicklingError, or a zip torch cannot read
        if "weights_only" in str(err).lower() or "weights only" in str(err).lower():
            raise refuse("it holds Python objects that could run code when loaded; "
                         "weights_only=True refused to load it") from None
        raise refuse(f"torch.load cannot read it ({str(err).splitlines()[0]})") from None
    why = _describe(state)
    if why is None and not sealed:
        why = "it has no checksum (saved by an older d2lresnet, or edited); start afresh"
    if why:
        raise refuse(why)
    return state


def saved_epoch(path):
    """The number of finished epochs the checkpoint at ``path`` holds (0: none, or unreadable).
    An interrupted run asks this last: its lock is released."""
    release_lock(path)
    try:
        return read_checkpoint(path)["epoch"]
    except (OSError, CheckpointError):
        return 0


# What may change on resume: more epochs continue a run without a schedule (a one-cycle plan
# cannot stretch, so there it must match); the about text and test-time flips train nothing.
_FREE_ON_RESUME = {"about", "test_flips", "twins"}  # none changes how ResNet-18 trains


def check_same_recipe(path, saved, recipe, epoch, num_epochs):
    """Raise CheckpointError naming every field in which ``recipe`` differs from ``saved``."""
    if epoch > num_epochs:
        raise CheckpointError(f"{path} already holds {epoch} epochs, more than the "
                              f"{num_epochs} asked for; ask for at least {epoch}")
    free = _FREE_ON_RESUME | ({"num_epochs"} if not recipe.get("one_cycle") else set())
    differs = [f"{name} {saved.get(name)!r} then, {recipe.get(name)!r} now"
               for name in sorted(set(saved) | set(recipe) - free)
               if name not in free and saved.get(name) != recipe.get(name)]
    if differs:
        raise CheckpointError(f"{path} was trained with another recipe: {'; '.join(differs)}. "
                              f"Resume with the same recipe, or start afresh at another path")


def load_checkpoint(path, net, optimizer=None, scheduler=None, *, recipe=None, num_epochs=None):
    """Restore the state saved by save_checkpoint into net (and optimizer, scheduler); returns
    the checkpoint's dict (its "epoch", "history" as a dict, "recipe"). With ``recipe`` (and
    ``num_epochs``, the length of the run that resumes) a different recipe is refused."""
    state = read_checkpoint(path)
    if recipe is not None:
        check_same_recipe(path, state["recipe"], recipe, state["epoch"],
                          num_epochs or state["epoch"])
    try:
        net.load_state_dict(state["model"])
        if optimizer:
            optimizer.load_state_dict(state["optimizer"])
        if scheduler:
            scheduler.load_state_dict(state["scheduler"])
    except (RuntimeError, ValueError, KeyError, TypeError) as err:
        raise CheckpointError(f"{path} holds another network's state "
                              f"({str(err).splitlines()[0]})") from None
    return state
