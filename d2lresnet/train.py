"""Training (6.4): the book's train_ch6, honest about speed and fast on a CPU.

Same semantics as the book: Xavier init of conv and linear weights, SGD, cross-entropy, the
loss and accuracies of each epoch.  Added: channels_last and bf16 autocast where the hardware
has it, optional momentum / one-cycle / label smoothing for the CPU preset, a live plot, a
progress bar, checkpoints with resume, and a clear stop when the loss blows up.
"""
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from . import i18n
from .checkpoint import check_writable, load_checkpoint, save_checkpoint, saved_epoch
from .drawing.plots import ProgressPlot


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


def try_gpu():
    """CUDA, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def cpu_has_bf16():
    """Whether the CPU has bf16 instructions (AVX512-BF16, AMX or Arm BF16); without them
    bf16 is emulated and slower than fp32."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return False
    return bool(flags & {"avx512_bf16", "amx_bf16", "bf16"})


def choose_precision(device, precision="auto"):
    if precision not in ("auto", "bf16", "fp32"):
        raise ValueError(f"precision must be 'auto', 'bf16' or 'fp32', got {precision!r}")
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if device.type == "cpu":
        return "bf16" if cpu_has_bf16() else "fp32"
    return "fp32"


@dataclass
class History:
    """What train() measured, one entry per epoch."""
    device: str = ""
    precision: str = ""
    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    train_seconds: list = field(default_factory=list)    # the training loop, data included
    compute_seconds: list = field(default_factory=list)  # forward, backward, step only
    examples: list = field(default_factory=list)         # training examples seen per epoch
    wall_seconds: list = field(default_factory=list)     # since train() began, evaluation included
    test_acc_flips: list = field(default_factory=list)   # with test-time flips, if asked for
    interrupted: bool = False

    @property
    def examples_per_sec(self):
        return sum(self.examples) / max(sum(self.train_seconds), 1e-9)

    @property
    def compute_examples_per_sec(self):
        return sum(self.examples) / max(sum(self.compute_seconds), 1e-9)

    def summary(self):
        """The book's two lines (in English, as the notes print them), then what our speed
        figure means (in the i18n language)."""
        return (f"loss {self.train_loss[-1]:.3f}, train acc {self.train_acc[-1]:.3f}, "
                f"test acc {self.test_acc[-1]:.3f}\n"
                f"{self.examples_per_sec:.1f} examples/sec on {self.device}\n"
                + i18n.tr("speed_note", rate=f"{self.compute_examples_per_sec:.1f}",
                          precision=self.precision))


def init_weights(m):
    """The book's init: Xavier-uniform weights for every conv and linear layer."""
    if isinstance(m, (nn.Linear, nn.Conv2d)):
        nn.init.xavier_uniform_(m.weight)


def _autocast(device, precision):
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def _memory_format(device):
    # channels_last lets oneDNN (CPU) and cuDNN pick their fastest conv kernels.
    return torch.channels_last if device.type in ("cpu", "cuda") else torch.contiguous_format


def predict(net, data_iter, device=None, precision="fp32", flips=False):
    """(labels, predictions, probabilities) over a dataset, in eval mode.

    flips=True: test-time flips, each image's probabilities averaged with its mirror's (the
    training flips make a mirrored garment just as likely). Twice the work; report it as such.
    """
    device = device or next(net.parameters()).device
    net.eval()
    labels, probs = [], []
    with torch.no_grad(), _autocast(device, precision):
        for X, y in data_iter:
            X = X.to(device, memory_format=_memory_format(device))
            p = torch.softmax(net(X).float(), dim=1)
            if flips:
                p = (p + torch.softmax(net(X.flip(-1)).float(), dim=1)) / 2
            probs.append(p.cpu())
            labels.append(y)
    probs = torch.cat(probs)
    return torch.cat(labels), probs.argmax(dim=1), probs


def evaluate_accuracy(net, data_iter, device=None, precision="fp32", flips=False):
    """Accuracy of net on a dataset, in eval mode (flips: see predict)."""
    labels, predictions, _ = predict(net, data_iter, device, precision, flips)
    return (predictions == labels).float().mean().item()


def train_step(net, X, y, loss_fn, optimizer, precision="fp32"):
    """One step of minibatch SGD: forward (under bf16 autocast if asked), backward, update.
    Returns the logits and the loss."""
    with _autocast(X.device, precision):
        y_hat = net(X)
        loss = loss_fn(y_hat, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return y_hat, loss


def train(net, train_iter, test_iter, num_epochs, lr, device=None, *, init=init_weights,
          precision="auto", momentum=0.0, nesterov=False, weight_decay=0.0, one_cycle=False,
          label_smoothing=0.0, checkpoint=None, resume=False, live_plot=None, progress=True,
          on_batch=None, test_flips=False):
    """Train as the book's train_ch6 does and return a History.

    init: applied to every layer first (default: the book's Xavier init); None keeps the
    weights the net came with, e.g. a zero-initialised residual branch.
    one_cycle: ramp the learning rate up to lr and anneal it (OneCycleLR), per batch.
    checkpoint: a path saved after every epoch; resume=True continues from it.
    live_plot: None draws in Jupyter and prints lines elsewhere; False prints lines only.
    progress=False: no progress bars and no per-epoch lines.
    on_batch: called after every step as on_batch(step, loss, correct, size): the step
    counted from 1 over the whole run, the batch's mean loss, how many of its size examples
    were classified right.
    test_flips: after the last epoch, also measure test accuracy with test-time flips
    (History.test_acc_flips); test_acc stays the plain figure.
    """
    started = time.perf_counter()
    device = torch.device(device) if device else try_gpu()
    precision = choose_precision(device, precision)
    memory_format = _memory_format(device)
    if init is not None:
        net.apply(init)
    net.to(device, memory_format=memory_format)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum, nesterov=nesterov,
                                weight_decay=weight_decay)
    scheduler = (torch.optim.lr_scheduler.OneCycleLR(
                     optimizer, max_lr=lr, total_steps=num_epochs * len(train_iter),
                     cycle_momentum=False)
                 if one_cycle else None)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    history, start_epoch = History(device=str(device), precision=precision), 0
    if resume and not checkpoint:
        raise ValueError("resume=True (--resume) needs checkpoint= (--checkpoint): the file "
                         "to resume from")
    if checkpoint:
        check_writable(checkpoint)  # now, not after the first epoch
    # Notices go to stderr: with --json, stdout holds nothing but the JSON object.
    if resume and Path(checkpoint).exists():
        start_epoch, history = load_checkpoint(checkpoint, net, optimizer, scheduler,
                                               num_epochs=num_epochs)
        print(f"resuming from {checkpoint} after epoch {start_epoch}", file=sys.stderr)
    elif resume:
        print(f"no checkpoint at {checkpoint}; starting from scratch", file=sys.stderr)
    # A resumed run's clock counts on from where the saved run's stopped.
    resumed_after = history.wall_seconds[-1] if history.wall_seconds else 0.0
    plot = ProgressPlot(num_epochs, live=live_plot, quiet=not progress)
    for epoch, (loss, train_acc, test_acc) in enumerate(
            zip(history.train_loss, history.train_acc, history.test_acc), start=1):
        plot.add(epoch, train_loss=loss, train_acc=train_acc, test_acc=test_acc)
    num_batches = len(train_iter)
    quiet = {} if progress else {"disable": True}  # else tqdm decides (TQDM_DISABLE=1 works)
    epochs = tqdm(range(start_epoch, num_epochs), desc="epochs", initial=start_epoch,
                  total=num_epochs, **quiet)
    try:
        for epoch in epochs:
            if hasattr(train_iter, "epoch"):
                train_iter.epoch = epoch  # replay the same shuffle when resuming
            net.train()
            loss_sum = correct = seen = 0
            compute_seconds, epoch_started = 0.0, time.perf_counter()
            batches = tqdm(train_iter, desc=f"epoch {epoch + 1}", leave=False, **quiet)
            for i, (X, y) in enumerate(batches):
                step_started = time.perf_counter()
                X, y = X.to(device, memory_format=memory_format), y.to(device)
                y_hat, loss = train_step(net, X, y, loss_fn, optimizer, precision)
                if scheduler:
                    scheduler.step()
                loss_value = loss.item()
                compute_seconds += time.perf_counter() - step_started
                if not math.isfinite(loss_value):
                    raise TrainingDiverged(
                        f"the loss became {loss_value} in epoch {epoch + 1}, batch {i + 1}: "
                        f"training stopped. The learning rate ({lr}) is probably too large; "
                        f"try a smaller one, e.g. {lr / 10:g}.")
                batch_correct = (y_hat.argmax(dim=1) == y).sum().item()
                loss_sum += loss_value * len(y)
                correct += batch_correct
                seen += len(y)
                if on_batch is not None:
                    on_batch(epoch * num_batches + i + 1, loss_value, batch_correct, len(y))
                if (i + 1) % max(num_batches // 5, 1) == 0 or i + 1 == num_batches:
                    plot.add(epoch + (i + 1) / num_batches, train_loss=loss_sum / seen,
                             train_acc=correct / seen)
            history.train_seconds.append(time.perf_counter() - epoch_started)
            history.compute_seconds.append(compute_seconds)
            history.examples.append(seen)
            history.train_loss.append(loss_sum / seen)
            history.train_acc.append(correct / seen)
            history.test_acc.append(evaluate_accuracy(net, test_iter, device, precision))
            if test_flips and epoch + 1 == num_epochs:
                history.test_acc_flips.append(
                    evaluate_accuracy(net, test_iter, device, precision, flips=True))
            history.wall_seconds.append(resumed_after + time.perf_counter() - started)
            plot.add(epoch + 1, test_acc=history.test_acc[-1])
            plot.epoch_done(epoch + 1, f"loss {history.train_loss[-1]:.3f}, train acc "
                                       f"{history.train_acc[-1]:.3f}, test acc "
                                       f"{history.test_acc[-1]:.3f}")
            if checkpoint:
                save_checkpoint(checkpoint, net, optimizer, scheduler, history, epoch + 1)
    except KeyboardInterrupt:
        history.interrupted = True
        # Say what the file holds, not what this run finished: Ctrl-C may land between an
        # epoch's end and its save.
        on_disk = saved_epoch(checkpoint) if checkpoint else 0
        where = (f"epoch {on_disk} is saved in {checkpoint}; resume=True (--resume) continues "
                 f"from there" if on_disk else "no finished epoch is saved")
        print(f"\ninterrupted: {where}", file=sys.stderr)
    finally:
        epochs.close()
    return history
