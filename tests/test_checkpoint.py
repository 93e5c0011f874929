"""Checkpoints under bad conditions: malformed or damaged files, unwritable paths, Ctrl-C in
the middle of a write, and a resume that does not fit the saved run."""
import os
import pickle
import signal

import pytest
import torch
from torch import nn

from d2lresnet import checkpoint as ckpt
from d2lresnet.checkpoint import (CheckpointError, check_writable, load_checkpoint,
                                  read_checkpoint, save_checkpoint)
from d2lresnet.data import load_data_fashion_mnist
from d2lresnet.train import History, train
from readonly import read_only


def tiny_net():
    # Any module will do: the checkpoint logic does not care which network it saves.
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10))


@pytest.fixture(scope="module")
def tiny_data():
    return load_data_fashion_mnist(64, limit=128, test_limit=64)  # 2 batches per epoch


def saved(path, epoch=1):
    net = tiny_net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    history = History(train_loss=[1.0] * epoch, train_acc=[0.5] * epoch, test_acc=[0.5] * epoch)
    save_checkpoint(path, net, optimizer, None, history, epoch)
    return net


def one_line_refusal(path):
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path, tiny_net())
    message = str(err.value)
    assert "\n" not in message and f"{path} is not a d2lresnet checkpoint: " in message
    return message


def test_a_checkpoint_round_trips_and_stays_a_torch_file(tmp_path):
    net = saved(tmp_path / "ck.pt", epoch=2)
    fresh = tiny_net()
    epoch, history = load_checkpoint(tmp_path / "ck.pt", fresh)
    assert epoch == 2 and history.test_acc == [0.5, 0.5]
    for a, b in zip(net.state_dict().values(), fresh.state_dict().values()):
        assert torch.equal(a, b)
    assert torch.load(tmp_path / "ck.pt", weights_only=True)["epoch"] == 2  # plain torch.load


class RunsCode:
    def __reduce__(self):
        return (os.system, ("touch ran-code",))


@pytest.mark.parametrize("name, write, why", [
    ("empty", lambda p: p.write_bytes(b""), "the file is empty"),
    ("text", lambda p: p.write_text("epoch = 3\n"), "not a file torch.save writes"),
    ("state_dict", lambda p: torch.save(tiny_net().state_dict(), p), "plain state_dict"),
    ("extra field", lambda p: torch.save({**_fields(), "notes": "hi"}, p),
     "unexpected fields: notes"),
    ("missing field", lambda p: torch.save({k: v for k, v in _fields().items()
                                            if k != "optimizer"}, p), "fields missing: optimizer"),
    ("no checksum", lambda p: torch.save(_fields(), p), "no checksum"),
    ("zip pickle with code", lambda p: torch.save({"epoch": RunsCode()}, p), "could run code"),
    ("raw pickle with code", lambda p: p.write_bytes(pickle.dumps(RunsCode())),
     "not a file torch.save writes"),
])
def test_malformed_checkpoints_are_refused_in_one_line(tmp_path, monkeypatch, name, write, why):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "bad.pt"
    write(path)
    assert why in one_line_refusal(path)
    assert not (tmp_path / "ran-code").exists()


def _fields():
    net = tiny_net()
    return {"format": ckpt.FORMAT, "epoch": 1, "model": net.state_dict(),
            "optimizer": torch.optim.SGD(net.parameters(), lr=0.1).state_dict(),
            "scheduler": None,
            "history": {"train_loss": [1.0], "train_acc": [0.5], "test_acc": [0.5]}}


def test_one_flipped_byte_anywhere_is_reported(tmp_path):
    path = tmp_path / "ck.pt"
    saved(path)
    good = path.read_bytes()
    # the zip header, the pickle, tensor data, the zip's directory, the checksum itself
    for offset in [0, 100, len(good) // 2, len(good) - 100, len(good) - 70, len(good) - 1]:
        damaged = bytearray(good)
        damaged[offset] ^= 0x01
        path.write_bytes(bytes(damaged))
        one_line_refusal(path)
    path.write_bytes(good)
    read_checkpoint(path)


def test_bad_checkpoint_paths_are_refused_before_training(tmp_path, tiny_data, monkeypatch):
    (tmp_path / "a-file").write_text("")
    (tmp_path / "locked").mkdir()
    epochs_run = []
    monkeypatch.setattr(ckpt, "save_checkpoint", lambda *a: epochs_run.append(a))
    for bad, why in [(tmp_path, "it is a folder"),
                     (tmp_path / "a-file" / "ck.pt", "is a file, not a folder")]:
        with pytest.raises(CheckpointError, match=why):
            train(tiny_net(), *tiny_data, num_epochs=1, lr=0.1, device="cpu",
                  checkpoint=bad, progress=False)
    with read_only(tmp_path / "locked"), pytest.raises(CheckpointError, match="Read-only|ermission"):
        check_writable(tmp_path / "locked" / "ck.pt")
    assert list((tmp_path / "locked").iterdir()) == []
    check_writable(tmp_path / "new" / "folders" / "ck.pt")  # missing folders are made


def test_a_failed_write_leaves_no_tmp_and_the_old_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "ck.pt"
    saved(path, epoch=1)

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ckpt.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        saved(path, epoch=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.pt"]
    assert read_checkpoint(path)["epoch"] == 1


def test_ctrl_c_during_a_checkpoint_write_reports_what_is_on_disk(tmp_path, tiny_data,
                                                                  monkeypatch, capsys):
    """A real SIGINT arrives while epoch 2 is being written: the message and the file agree."""
    path, calls = tmp_path / "ck.pt", []
    real_save = torch.save

    def save_with_ctrl_c(obj, f, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, halfway through the write
        real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(ckpt.torch, "save", save_with_ctrl_c)
    history = train(tiny_net(), *tiny_data, num_epochs=3, lr=0.1, device="cpu",
                    checkpoint=path, progress=False)
    assert history.interrupted
    captured = capsys.readouterr()
    on_disk = read_checkpoint(path)["epoch"]
    assert f"epoch {on_disk} is saved in {path}" in captured.err
    assert not path.with_name("ck.pt.tmp").exists()


def test_resume_refuses_without_a_checkpoint(tiny_data):
    with pytest.raises(ValueError, match="needs checkpoint"):
        train(tiny_net(), *tiny_data, num_epochs=1, lr=0.1, device="cpu", resume=True,
              progress=False)


@pytest.mark.parametrize("change, differs", [
    (dict(num_epochs=3), "epochs 2 then, 3 now"),
    (dict(limit=192), "batches per epoch 2 then, 3 now"),
    (dict(batch_size=32), "batches per epoch 2 then, 4 now"),
])
def test_resuming_one_cycle_with_another_plan_says_what_differs(tmp_path, change, differs):
    path = tmp_path / "ck.pt"
    recipe = dict(lr=0.1, device="cpu", one_cycle=True, progress=False, checkpoint=path)
    train(tiny_net(), *load_data_fashion_mnist(64, limit=128, test_limit=64), num_epochs=1,
          **recipe)  # a 1-epoch run ...
    state = read_checkpoint(path)
    assert state["scheduler"]["total_steps"] == 2
    # ... saved as if planned for 2 epochs of 2 batches, interrupted after the first
    state["scheduler"]["total_steps"] = 4
    _rewrite(path, state)
    data = load_data_fashion_mnist(change.get("batch_size", 64), limit=change.get("limit", 128),
                                   test_limit=64)
    with pytest.raises(CheckpointError, match=differs):
        train(tiny_net(), *data, num_epochs=change.get("num_epochs", 2), resume=True, **recipe)


def test_resume_asking_for_fewer_epochs_than_saved_is_refused(tmp_path, tiny_data):
    path = tmp_path / "ck.pt"
    saved(path, epoch=2)
    with pytest.raises(CheckpointError, match="already holds 2 epochs"):
        train(tiny_net(), *tiny_data, num_epochs=1, lr=0.1, device="cpu", checkpoint=path,
              resume=True, progress=False)


def _rewrite(path, state):
    """Save an edited state as a sealed checkpoint (what a planned longer run would save)."""
    net = tiny_net()
    net.load_state_dict(state["model"])
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    optimizer.load_state_dict(state["optimizer"])
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=4)
    scheduler.load_state_dict(state["scheduler"])
    save_checkpoint(path, net, optimizer, scheduler, History(**state["history"]), state["epoch"])
