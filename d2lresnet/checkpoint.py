"""Checkpoints that are either whole and right, or refused with one line saying why.

A checkpoint is an ordinary ``torch.save`` file (``torch.load(path, weights_only=True)`` reads
it) whose zip comment, the last bytes of the file, holds the SHA-256 of every byte before it:
one flipped byte anywhere is reported instead of loaded. It is written to ``PATH.tmp`` and
renamed into place only when complete, and Ctrl-C during the write is held until the rename,
so "epoch N is saved" is true when it is said.
"""
import contextlib
import dataclasses
import hashlib
import io
import os
import signal
import struct
import threading
from pathlib import Path

import torch

FORMAT = "d2lresnet checkpoint 1"
FIELDS = ("format", "epoch", "model", "optimizer", "scheduler", "history")
_END_OF_ZIP = b"PK\x05\x06"  # the zip's end record: 22 bytes, then its comment
_DIGEST_SIZE = 64            # a hex SHA-256


class CheckpointError(ValueError):
    """Not a d2lresnet checkpoint, not one for this run, or a path that cannot be written."""


def _tmp_path(path):
    return path.with_name(path.name + ".tmp")


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
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"cannot write the checkpoint {path}: it is a folder; name a file "
                              f"inside it, e.g. {path / 'resnet18.pt'}")
    parent = next(p for p in path.parents if p.exists())
    if not parent.is_dir():
        raise CheckpointError(f"cannot write the checkpoint {path}: {parent} is a file, "
                              f"not a folder")
    tmp = _tmp_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.open("wb").close()
    except OSError as err:
        raise CheckpointError(f"cannot write the checkpoint {path}: "
                              f"{err.strerror or err}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def save_checkpoint(path, net, optimizer, scheduler, history, epoch):
    """Save the training state after ``epoch`` finished epochs; see the module docstring."""
    path, tmp = Path(path), _tmp_path(Path(path))
    with _ctrl_c_held():
        buffer = io.BytesIO()
        torch.save({"format": FORMAT, "epoch": epoch, "model": net.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict() if scheduler else None,
                    "history": dataclasses.asdict(history)}, buffer)
        data = _seal(buffer.getvalue())
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())  # on disk before the rename makes it the checkpoint
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)  # never leave 45 MB of half a checkpoint behind
            raise


def _describe(state):
    """Why ``state`` (what torch.load returned) is not a checkpoint's content, or None."""
    if not isinstance(state, dict):
        return f"it holds a {type(state).__name__}, not a dict of training state"
    if state and all(isinstance(value, torch.Tensor) for value in state.values()):
        return ("it is a plain state_dict (weights only, no training state); load it with "
                "net.load_state_dict(torch.load(path, weights_only=True))")
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
    data = path.read_bytes()

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
    """The number of finished epochs the checkpoint at ``path`` holds (0: none, or unreadable)."""
    try:
        return read_checkpoint(path)["epoch"]
    except (OSError, CheckpointError):
        return 0


def _check_same_schedule(path, state, scheduler, num_epochs):
    saved = state["scheduler"]
    if (saved is None) != (scheduler is None):
        raise CheckpointError(
            f"{path} was saved {'with' if saved else 'without'} a one-cycle schedule; resume "
            f"it with the same recipe, or start afresh")
    if num_epochs is not None and state["epoch"] > num_epochs:
        raise CheckpointError(f"{path} already holds {state['epoch']} epochs, more than the "
                              f"{num_epochs} asked for; ask for at least {state['epoch']}")
    if scheduler is None:
        return  # plain SGD has no plan to break: more epochs simply continue it
    # OneCycleLR has taken (epochs done x batches per epoch) steps of its planned total.
    saved_batches = saved["last_epoch"] // state["epoch"]
    saved_epochs = saved["total_steps"] // max(saved_batches, 1)
    batches = scheduler.total_steps // num_epochs if num_epochs else saved_batches
    epochs = num_epochs or scheduler.total_steps // max(batches, 1)
    if (saved_epochs, saved_batches) == (epochs, batches) \
            and saved["total_steps"] == scheduler.total_steps:
        return
    differs = [f"epochs {saved_epochs} then, {epochs} now"] if saved_epochs != epochs else []
    if saved_batches != batches:
        differs.append(f"batches per epoch {saved_batches} then, {batches} now (the limit or "
                       f"the batch size changed)")
    raise CheckpointError(
        f"{path} was saved by a one-cycle schedule planned for {saved_epochs} epochs of "
        f"{saved_batches} batches; this run differs: {'; '.join(differs) or 'the total steps'}. "
        f"The schedule cannot stretch mid-run: resume with the same epochs, limit and batch "
        f"size, or start afresh")


def load_checkpoint(path, net, optimizer=None, scheduler=None, *, num_epochs=None):
    """Restore the state saved by save_checkpoint; returns (finished epochs, History).

    num_epochs, the length of the run that resumes, lets a one-cycle schedule be checked
    against the one saved (a different plan cannot continue)."""
    from .train import History  # here, not at the top: train imports this module

    state = read_checkpoint(path)
    _check_same_schedule(path, state, scheduler, num_epochs)
    try:
        net.load_state_dict(state["model"])
        if optimizer:
            optimizer.load_state_dict(state["optimizer"])
    except (RuntimeError, ValueError, KeyError) as err:
        raise CheckpointError(f"{path} holds another network's state "
                              f"({str(err).splitlines()[0]})") from None
    if scheduler:
        scheduler.load_state_dict(state["scheduler"])
    known = {f.name for f in dataclasses.fields(History)}  # fields may come and go
    return state["epoch"], History(**{k: v for k, v in state["history"].items() if k in known})
