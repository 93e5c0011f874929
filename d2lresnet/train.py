"""Training (6.4): the book's train_ch6, honest about speed and fast on a CPU.

Same semantics as the book: Xavier init of conv and linear weights, SGD, cross-entropy, the
loss and accuracies of each epoch; ``train`` reads as the book's loop. What the machine is and
how fast it runs lives in d2lresnet/machine.py. Added here, each in a small helper beside the
loop: channels_last and bf16 autocast where the hardware has it, a Recipe
(momentum, one-cycle, label smoothing: a presets.Preset is one), a live plot and progress
bars, checkpoints that hold the recipe (a resume under another recipe is refused), and a clear
stop when the loss blows up.
"""
import copy
import dataclasses
import json
import math
import sys
import time
from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from . import i18n
from .checks import whole_number
from .checkpoint import (check_new_or_resumed, load_checkpoint, release_lock, save_checkpoint,
                         saved_epoch)
from .drawing.plots import ProgressPlot
from .tricks import Lookahead, parameter_groups, whiten_stem_, zero_init_residual_
from .machine import (announce, choose_precision, cpu_seconds, describe_machine, others_share,
                      time_steps)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


def try_gpu():
    """CUDA, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


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
    machines: list = field(default_factory=list)         # where each epoch ran (a resumed run
                                                         # may have moved)
    others_cpu: list = field(default_factory=list)       # share of the CPU other processes used
                                                         # per epoch (others_share; None: unknown)
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
        if not self.test_acc:
            return "no epoch finished" + (" (interrupted during epoch 1)" if self.interrupted
                                          else "")
        return (f"loss {self.train_loss[-1]:.3f}, train acc {self.train_acc[-1]:.3f}, "
                f"test acc {self.test_acc[-1]:.3f}\n"
                f"{self.examples_per_sec:.1f} examples/sec on {self.device}\n"
                + i18n.tr("speed_note", rate=f"{self.compute_examples_per_sec:.1f}",
                          precision=self.precision))


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """The optimiser's settings beside lr and num_epochs; a presets.Preset is one, with the
    data's size and augmentation besides."""
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    one_cycle: bool = False       # ramp the learning rate up to lr and anneal it, per batch
    label_smoothing: float = 0.0
    test_flips: bool = False      # after the last epoch, test accuracy with flips as well
    warmup: float = 0.3           # one-cycle: the share of the steps spent ramping up
    # tricks from the CIFAR-10 speed records (d2lresnet/tricks.py says what each does)
    zero_init_residual: bool = False
    whiten_stem: bool = False
    decay_norm_and_bias: bool = True
    bn_bias_lr: float = 1.0
    lookahead: bool = False


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


def train(net, train_iter, test_iter, num_epochs, lr, device=None, *, recipe=None,
          init=init_weights, precision="auto", checkpoint=None, resume=False, on_batch=None,
          progress=True, live_plot=None, **recipe_fields):
    """Train as the book's train_ch6 does and return a History.

    recipe: a Recipe or a presets.Preset (or Recipe's fields as keywords: momentum=0.9).
    init: applied to every layer first (default: the book's Xavier init); None keeps the
    weights the net came with, e.g. a zero-initialised residual branch.
    checkpoint: a path saved after every epoch, with the recipe; resume=True continues from it.
    on_batch(step, loss, correct, size): called after every step, the step counted from 1
    over the whole run, the batch's mean loss, how many of its size examples were right.
    progress=False: no bars, plot or lines; live_plot=False: lines instead of a plot.
    """
    recipe = _as_recipe(recipe, recipe_fields)
    num_batches = _check_run(train_iter, test_iter, num_epochs, lr)
    num_epochs, lr = int(num_epochs), float(lr)  # plain values: the checkpoint records them
    device = torch.device(device) if device else try_gpu()
    precision = choose_precision(device, precision)
    saver = _Checkpoints(checkpoint, resume, _recipe_record(recipe, num_epochs, lr, num_batches))
    if init is not None:
        net.apply(init)
    _start_tricks(net, recipe, train_iter)
    net.to(device, memory_format=_memory_format(device))
    optimizer, scheduler = make_optimizer(net, recipe, lr, num_epochs * num_batches)
    lookahead = Lookahead(net, num_epochs * num_batches) if recipe.lookahead else None
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    history, machine = History(device=str(device), precision=precision), describe_machine(device)
    start_epoch = saver.restore(net, optimizer, scheduler, history, num_epochs)
    shown = _Progress(num_epochs, history, live_plot, progress)
    started = time.perf_counter() - (history.wall_seconds or [0.0])[-1]  # a resume counts on
    try:
        for epoch in shown.epochs(start_epoch):
            if hasattr(train_iter, "epoch"):
                train_iter.epoch = epoch  # replay the same shuffle when resuming
            net.train()
            loss_sum = correct = seen = 0
            compute_seconds, epoch_started = 0.0, time.perf_counter()
            cpu_before = cpu_seconds()
            for i, (X, y) in enumerate(shown.batches(train_iter, epoch)):
                step_started = time.perf_counter()
                X, y = X.to(device, memory_format=_memory_format(device)), y.to(device)
                y_hat, loss = train_step(net, X, y, loss_fn, optimizer, precision)
                if scheduler:
                    scheduler.step()
                if lookahead:
                    lookahead.step(epoch * num_batches + i + 1)
                loss_value = loss.item()
                compute_seconds += time.perf_counter() - step_started
                _stop_if_diverged(loss_value, lr, epoch, i)
                batch_correct = (y_hat.argmax(dim=1) == y).sum().item()
                loss_sum += loss_value * len(y)
                correct += batch_correct
                seen += len(y)
                if on_batch is not None:
                    on_batch(epoch * num_batches + i + 1, loss_value, batch_correct, len(y))
                shown.batch(epoch + (i + 1) / num_batches, loss_sum / seen, correct / seen)
            history.train_seconds.append(time.perf_counter() - epoch_started)
            history.compute_seconds.append(compute_seconds)
            history.examples.append(seen)
            history.train_loss.append(loss_sum / seen)
            history.train_acc.append(correct / seen)
            if lookahead and epoch + 1 == num_epochs:
                lookahead.finish()  # test the slow weights
            history.test_acc.append(evaluate_accuracy(net, test_iter, device, precision))
            if recipe.test_flips and epoch + 1 == num_epochs:
                history.test_acc_flips.append(
                    evaluate_accuracy(net, test_iter, device, precision, flips=True))
            history.wall_seconds.append(time.perf_counter() - started)
            history.machines.append(machine)
            history.others_cpu.append(others_share(cpu_before, cpu_seconds(),
                                                   time.perf_counter() - epoch_started))
            shown.epoch_done(epoch + 1)
            saver.save(net, optimizer, scheduler, history, epoch + 1)
    except KeyboardInterrupt:
        history.interrupted = True
        saver.say_what_is_saved()
    finally:
        shown.close()
        if checkpoint:
            release_lock(checkpoint)  # however the run ended (a diverged one too)
    return history


def _forever(batches):
    """The batches again and again: a loader shorter than the steps to time is reused."""
    while True:
        empty = True
        for batch in batches:
            empty = False
            yield batch
        if empty:
            raise ValueError("there is no batch to time")


def estimate_training(net, train_iter, test_iter, recipe, device=None, precision="auto", *,
                      steps=3, clock=time.perf_counter):
    """Seconds that ``train(net, train_iter, test_iter, recipe.num_epochs, ...)`` will take on
    this machine, printed in the notebook's language before the long cell starts.

    A few real steps of a copy of net (its weights and BatchNorm statistics stay as they were)
    on train_iter's own batches, data loading included, and one evaluation batch; then
    per-step time x steps per run. Progressive resizing is timed at the final side."""
    device = torch.device(device) if device else try_gpu()
    precision = choose_precision(device, precision)
    trial = copy.deepcopy(net).to(device, memory_format=_memory_format(device))
    optimizer = torch.optim.SGD(trial.parameters(), lr=0.0, momentum=recipe.momentum)
    loss_fn = torch.nn.CrossEntropyLoss()
    batches, test_batches = _forever(train_iter), _forever(test_iter)

    def training_step():
        X, y = next(batches)
        X, y = X.to(device, memory_format=_memory_format(device)), y.to(device)
        trial.train()
        train_step(trial, X, y, loss_fn, optimizer, precision)

    def test_step():
        X, _ = next(test_batches)
        trial.eval()
        with torch.no_grad(), _autocast(device, precision):
            trial(X.to(device, memory_format=_memory_format(device)))

    epochs_seen = [getattr(data, "epoch", None) for data in (train_iter, test_iter)]
    per_step = time_steps(training_step, steps, clock)
    per_test = time_steps(test_step, steps, clock)
    for data, epoch in zip((train_iter, test_iter), epochs_seen):
        if epoch is not None:  # iterating moved the loader's shuffle on: put it back
            data.epoch = epoch
    flips = 2 if getattr(recipe, "test_flips", False) else 1  # the last epoch tests twice
    seconds = recipe.num_epochs * (len(train_iter) * per_step + len(test_iter) * per_test) \
        + (flips - 1) * len(test_iter) * 2 * per_test
    return announce(seconds)


def _as_recipe(recipe, fields):
    if recipe is not None and fields:
        raise TypeError(f"give recipe= or its fields ({', '.join(fields)}), not both")
    return recipe if recipe is not None else Recipe(**fields)


def _check_run(train_iter, test_iter, num_epochs, lr):
    """One-line errors for what cannot train, before anything does; the batches per epoch."""
    whole_number("num_epochs", num_epochs)  # NumPy's integers pass, True does not
    if isinstance(lr, bool) or not isinstance(lr, Real) or not (math.isfinite(lr) and lr >= 0):
        raise ValueError(f"lr must be a finite number at least 0 (the book uses 0.05), got {lr!r}")
    for name, batches in [("train_iter", train_iter), ("test_iter", test_iter)]:
        if len(batches) == 0:
            raise ValueError(f"{name} holds no batch: nothing to "
                             f"{'train on' if name == 'train_iter' else 'measure accuracy on'}")
    return len(train_iter)


def _recipe_record(recipe, num_epochs, lr, num_batches):
    """What a checkpoint keeps of the recipe: plain values, so torch.load(weights_only) reads it."""
    fields = dataclasses.asdict(recipe)
    return json.loads(json.dumps({**fields, "num_epochs": num_epochs, "lr": lr,
                                  "batches_per_epoch": num_batches}))


def _start_tricks(net, recipe, train_iter):
    """The recipe's initialisation tricks (d2lresnet/tricks.py), after the init."""
    if recipe.zero_init_residual:
        zero_init_residual_(net)
    if recipe.whiten_stem:
        whiten_stem_(net, train_iter)


def make_optimizer(net, recipe, lr, total_steps):
    """The book's SGD with the recipe's momentum and weight decay; one-cycle if asked for."""
    groups = parameter_groups(net, lr, recipe.weight_decay, recipe.decay_norm_and_bias,
                              recipe.bn_bias_lr)
    optimizer = torch.optim.SGD(groups, lr=lr, momentum=recipe.momentum,
                                nesterov=recipe.nesterov, weight_decay=recipe.weight_decay)
    scheduler = (torch.optim.lr_scheduler.OneCycleLR(optimizer,
                                                     max_lr=[g["lr"] for g in groups],
                                                     total_steps=total_steps,
                                                     pct_start=recipe.warmup,
                                                     cycle_momentum=False)
                 if recipe.one_cycle else None)
    return optimizer, scheduler


def _stop_if_diverged(loss_value, lr, epoch, i):
    if not math.isfinite(loss_value):
        raise TrainingDiverged(
            f"the loss became {loss_value} in epoch {epoch + 1}, batch {i + 1}: training "
            f"stopped. The learning rate ({lr}) is probably too large; try a smaller one, "
            f"e.g. {lr / 10:g}.")


class _Checkpoints:
    """Save after every epoch to path (None: nothing), resume from it if asked."""

    def __init__(self, path, resume, recipe):
        if resume and not path:
            raise ValueError("resume=True (--resume) needs checkpoint= (--checkpoint): the "
                             "file to resume from")
        check_new_or_resumed(path, resume)  # now, not after the first epoch
        self.path, self.resume, self.recipe = path, resume, recipe

    def restore(self, net, optimizer, scheduler, history, num_epochs):
        """Load the saved state into these; the number of finished epochs (0: none)."""
        # Notices go to stderr: with --json, stdout holds nothing but the JSON object.
        if self.resume and not Path(self.path).exists():
            print(f"no checkpoint at {self.path}; starting from scratch", file=sys.stderr)
        if not (self.resume and Path(self.path).exists()):
            return 0
        state = load_checkpoint(self.path, net, optimizer, scheduler, recipe=self.recipe,
                                num_epochs=num_epochs)
        for name, value in state["history"].items():  # this run's device and precision stay
            if isinstance(getattr(history, name, None), list):
                setattr(history, name, list(value))
        # a checkpoint from before machines were recorded
        history.machines += ["not recorded"] * (state["epoch"] - len(history.machines))
        history.others_cpu += [None] * (state["epoch"] - len(history.others_cpu))
        print(f"resuming from {self.path} after epoch {state['epoch']}", file=sys.stderr)
        return state["epoch"]

    def save(self, net, optimizer, scheduler, history, epoch):
        if self.path:
            save_checkpoint(self.path, net, optimizer, scheduler, history, epoch, self.recipe)

    def say_what_is_saved(self):
        # What the file holds, not what this run finished: Ctrl-C may land between an
        # epoch's end and its save.
        on_disk = saved_epoch(self.path) if self.path else 0
        where = (f"epoch {on_disk} is saved in {self.path}; resume=True (--resume) continues "
                 f"from there" if on_disk else "no finished epoch is saved")
        print(f"\ninterrupted: {where}", file=sys.stderr)


class _Progress:
    """Progress bars (tqdm) and the live plot of loss and accuracies; progress=False: none."""

    def __init__(self, num_epochs, history, live_plot, progress):
        self.num_epochs, self.history = num_epochs, history
        self.quiet = {} if progress else {"disable": True}  # else tqdm decides (TQDM_DISABLE=1)
        # progress=False: nothing at all, not even the live plot a notebook would get
        self.plot = ProgressPlot(num_epochs, live=live_plot if progress else False,
                                 quiet=not progress)
        for epoch, (loss, train_acc, test_acc) in enumerate(
                zip(history.train_loss, history.train_acc, history.test_acc), start=1):
            self.plot.add(epoch, train_loss=loss, train_acc=train_acc, test_acc=test_acc)
        self.bar = None

    def epochs(self, start):
        self.bar = tqdm(range(start, self.num_epochs), desc="epochs", initial=start,
                        total=self.num_epochs, **self.quiet)
        return self.bar

    def batches(self, train_iter, epoch):
        self.every = max(len(train_iter) // 5, 1)
        self.count = 0
        return tqdm(train_iter, desc=f"epoch {epoch + 1}", leave=False, **self.quiet)

    def batch(self, x, train_loss, train_acc):
        self.count += 1
        if self.count % self.every == 0 or x == int(x):
            self.plot.add(x, train_loss=train_loss, train_acc=train_acc)

    def epoch_done(self, epoch):
        h = self.history
        self.plot.add(epoch, test_acc=h.test_acc[-1])
        self.plot.epoch_done(epoch, i18n.tr("epoch_line", epoch=epoch, loss=h.train_loss[-1],
                                            train_acc=h.train_acc[-1], test_acc=h.test_acc[-1]))

    def close(self):
        if self.bar is not None:
            self.bar.close()
