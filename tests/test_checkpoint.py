"""Checkpoints under bad conditions: malformed or damaged files, unwritable paths, Ctrl-C in
the middle of a write, and a resume that does not fit the saved run."""
import os
import pickle
import re
import signal

import pytest
import torch
from torch import nn

from d2lresnet import checkpoint as ckpt
from d2lresnet.checkpoint import (CheckpointError, check_writable, load_checkpoint,
                                  read_checkpoint, save_checkpoint)
from d2lresnet.data import load_data_fashion_mnist
from d2lresnet.train import History, Recipe, make_optimizer, train
from readonly import read_only


def tiny_net():
    # Any module will do: the checkpoint logic does not care which network it saves.
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10))


@pytest.fixture(scope="module")
def tiny_data():
    return load_data_fashion_mnist(64, limit=128, test_limit=64)  # 2 batches per epoch


RECIPE = {"lr": 0.1, "momentum": 0.0, "num_epochs": 2}


def saved(path, epoch=1):
    net = tiny_net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    history = History(train_loss=[1.0] * epoch, train_acc=[0.5] * epoch, test_acc=[0.5] * epoch)
    save_checkpoint(path, net, optimizer, None, history, epoch, RECIPE)
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
    state = load_checkpoint(tmp_path / "ck.pt", fresh)
    assert state["epoch"] == 2 and state["history"]["test_acc"] == [0.5, 0.5]
    assert state["recipe"] == RECIPE
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
    ("format 1, no recipe", lambda p: torch.save({**_fields(), "format": "d2lresnet checkpoint 1"},
                                                 p), "without its recipe"),
    ("format 2, one optimizer group",
     lambda p: torch.save({**_fields(), "format": "d2lresnet checkpoint 2"}, p),
     "before the recipe had its warm-up and tricks"),
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
            "scheduler": None, "recipe": RECIPE,
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
    batches_asked = []

    class Counting:  # the training data, counting every batch train() asks for
        def __len__(self):
            return len(tiny_data[0])

        def __iter__(self):
            for batch in tiny_data[0]:
                batches_asked.append(1)
                yield batch

    for bad, why in [(tmp_path, "it is a folder"),
                     (tmp_path / "a-file" / "ck.pt", "is a file, not a folder")]:
        with pytest.raises(CheckpointError, match=why):
            train(tiny_net(), Counting(), tiny_data[1], num_epochs=1, lr=0.1, device="cpu",
                  checkpoint=bad, progress=False)
    assert batches_asked == []  # refused before the first batch, not after the epoch
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
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]  # no temporary file left


def test_an_existing_file_is_never_overwritten_without_resume(tmp_path, tiny_data):
    for name, write in [("run.pt", lambda p: saved(p, epoch=2)),
                        ("weights.pt", lambda p: torch.save(tiny_net().state_dict(), p)),
                        ("notes.txt", lambda p: p.write_text("hours of work"))]:
        path = tmp_path / name
        write(path)
        before = path.read_bytes()
        with pytest.raises(CheckpointError, match="already exists; resume=True"):
            train(tiny_net(), *tiny_data, num_epochs=1, lr=0.1, device="cpu", checkpoint=path,
                  progress=False)
        assert path.read_bytes() == before


def test_two_writers_of_one_path_use_temporary_files_of_their_own(tmp_path, monkeypatch):
    # The second save starts while the first is between its write and its rename: with one
    # fixed PATH.tmp the second would replace (or delete) the first's file.
    path, names, real_replace = tmp_path / "ck.pt", [], ckpt.Path.replace

    def replace_after_another_save(self, target):
        names.append(self.name)
        if len(names) == 1:
            saved(path, epoch=2)  # another run, saving to the same path meanwhile
        return real_replace(self, target)

    monkeypatch.setattr(ckpt.Path, "replace", replace_after_another_save)
    saved(path, epoch=1)
    assert len(set(names)) == 2 and all(n.endswith(".tmp") for n in names)
    assert read_checkpoint(path)["epoch"] == 1  # the last rename wins, whole
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]


def test_resume_refuses_without_a_checkpoint(tiny_data):
    with pytest.raises(ValueError, match="needs checkpoint"):
        train(tiny_net(), *tiny_data, num_epochs=1, lr=0.1, device="cpu", resume=True,
              progress=False)


@pytest.mark.parametrize("change, differs", [
    (dict(num_epochs=3), "num_epochs 2 then, 3 now"),  # a one-cycle plan cannot stretch
    (dict(limit=192), "batches_per_epoch 2 then, 3 now"),
    (dict(batch_size=32), "batches_per_epoch 2 then, 4 now"),
    (dict(lr=1e30), "lr 0.1 then, 1e+30 now"),
    (dict(momentum=0.0), "momentum 0.9 then, 0.0 now"),
    (dict(one_cycle=False), "one_cycle True then, False now"),
])
def test_resuming_with_another_recipe_says_what_differs(tmp_path, change, differs):
    path = tmp_path / "ck.pt"
    recipe = dict(lr=0.1, momentum=0.9, one_cycle=True)
    data = load_data_fashion_mnist(64, limit=128, test_limit=64)
    # Interrupted after epoch 1 of a planned 2, then resumed with one thing changed.
    train(tiny_net(), *_interrupted_after_one_epoch(data), num_epochs=2, device="cpu",
          progress=False, checkpoint=path, **recipe)
    assert read_checkpoint(path)["epoch"] == 1
    data = load_data_fashion_mnist(change.pop("batch_size", 64), limit=change.pop("limit", 128),
                                   test_limit=64)
    num_epochs = change.pop("num_epochs", 2)
    with pytest.raises(CheckpointError, match=re.escape(differs)) as err:
        train(tiny_net(), *data, num_epochs=num_epochs, device="cpu", progress=False,
              checkpoint=path, resume=True, **{**recipe, **change})
    assert "\n" not in str(err.value)
    resumed = train(tiny_net(), *load_data_fashion_mnist(64, limit=128, test_limit=64),
                    num_epochs=2, device="cpu", progress=False, checkpoint=path, resume=True,
                    **recipe)  # the same recipe resumes
    assert len(resumed.test_acc) == 2


def _interrupted_after_one_epoch(data):
    train_iter, test_iter = data

    class Interrupting:
        epoch = 0

        def __len__(self):
            return len(train_iter)

        def __iter__(self):
            if self.epoch >= 1:
                raise KeyboardInterrupt
            return iter(train_iter)

    return Interrupting(), test_iter


def test_a_resumed_run_reports_its_own_device_and_precision(tmp_path, tiny_data, monkeypatch):
    path = tmp_path / "ck.pt"
    train(tiny_net(), *tiny_data, num_epochs=1, lr=0.1, device="cpu", precision="fp32",
          checkpoint=path, progress=False)
    state = read_checkpoint(path)
    state["history"].update(device="cuda", precision="bf16")  # as if saved on a GPU
    _rewrite(path, state)
    resumed = train(tiny_net(), *tiny_data, num_epochs=2, lr=0.1, device="cpu",
                    precision="fp32", checkpoint=path, resume=True, progress=False)
    assert (resumed.device, resumed.precision) == ("cpu", "fp32")
    assert len(resumed.test_acc) == 2


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
    optimizer, _ = make_optimizer(net, Recipe(), 0.1, 1)  # the groups train() makes
    optimizer.load_state_dict(state["optimizer"])
    save_checkpoint(path, net, optimizer, None, state["history"], state["epoch"], state["recipe"])


# Issue 35: one writer, links kept, no stale temporary files, no hang ----------------------

T = ["--preset", "smoke", "--limit", "64", "--batch-size", "32", "--precision", "fp32"]


def _cli(*args):
    from d2lresnet.cli import main
    return main(["train", *T, "--epochs", "1", *map(str, args)])


def test_a_second_run_of_one_checkpoint_is_refused_while_the_first_holds_it(tmp_path, capsys,
                                                                            tiny_data):
    import subprocess
    import sys
    path = tmp_path / "same.pt"
    # The first run: takes the checkpoint as train() does, says so, and waits to be let go.
    first = subprocess.Popen(
        [sys.executable, "-c", "import sys; from d2lresnet.checkpoint import "
         "check_new_or_resumed as c; c(sys.argv[1], False); print('held', flush=True); "
         "sys.stdin.read()", str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline() == "held\n"
        assert _cli("--checkpoint", path) == 1
        assert f"{path} is being written by another run (process {first.pid})" \
            in capsys.readouterr().err
        with pytest.raises(CheckpointError, match="another run"):
            train(tiny_net(), *tiny_data, num_epochs=1, lr=0.1, device="cpu", checkpoint=path,
                  progress=False)
        assert not path.exists()
    finally:
        first.communicate("", timeout=600)
    assert _cli("--checkpoint", path) == 0  # the first run ended: the path is free
    assert read_checkpoint(path)["epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same.pt"]  # no lock file left


def test_a_run_that_fails_lets_its_checkpoint_go(tmp_path, tiny_data):
    def fail(*args):
        raise RuntimeError("a cell interrupted by an error")
    path = tmp_path / "ck.pt"
    with pytest.raises(RuntimeError, match="interrupted by an error"):
        train(tiny_net(), *tiny_data, num_epochs=1, lr=0.1, device="cpu", checkpoint=path,
              progress=False, on_batch=fail)
    assert not (tmp_path / ".ck.pt.lock").exists()  # held until the kernel ended before


def test_a_killed_runs_temporary_file_is_removed_by_the_next_run(tmp_path):
    path = tmp_path / "ck.pt"
    stale = tmp_path / ".ck.pt.k1ll3d.tmp"  # what SIGKILL during a save leaves
    stale.write_bytes(b"\0" * 1000)
    other = tmp_path / ".other.pt.k1ll3d.tmp"  # another checkpoint's: not ours to remove
    other.write_bytes(b"\0")
    assert _cli("--checkpoint", path) == 0
    assert not stale.exists() and other.exists()


def test_a_checkpoint_named_through_a_link_stays_a_link(tmp_path):
    (tmp_path / "real").mkdir()
    target, link = tmp_path / "real" / "ck.pt", tmp_path / "ck.pt"
    link.symlink_to(target)
    assert _cli("--checkpoint", link) == 0  # a dangling link: the file is made where it points
    assert _cli("--checkpoint", link, "--resume", "--epochs", "2") == 0
    assert link.is_symlink() and read_checkpoint(target)["epoch"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.pt", "real"]


def test_a_checkpoint_path_ending_in_a_slash_names_a_folder(tmp_path, capsys):
    assert _cli("--checkpoint", f"{tmp_path / 'newdir'}/") == 1
    assert "names a folder; name a file inside it" in capsys.readouterr().err
    assert not (tmp_path / "newdir").exists()


def test_a_fifo_as_checkpoint_is_refused_not_waited_on(tmp_path):
    import subprocess
    import sys
    fifo = tmp_path / "f.pt"
    os.mkfifo(fifo)
    for extra in (["--resume"], []):  # the timeout catches a hang, not a slow start: a busy
        # 2-core CPU took over 120 s to start Python with PyTorch here
        result = subprocess.run([sys.executable, "-m", "d2lresnet", "train", *T, "--checkpoint",
                                 str(fifo), *extra], capture_output=True, text=True, timeout=600)
        assert result.returncode == 1 and "not a regular file" in result.stderr, result.stderr
    with pytest.raises(CheckpointError, match="not a regular file"):
        read_checkpoint(fifo)  # opened without waiting for a writer
