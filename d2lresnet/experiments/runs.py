"""One record of a measured run, shared by `frontier`, `versus` and `train --json`.

A run is a dict of plain values (the JSON schema, one entry per epoch where a list):

    preset, about, recipe (the Preset's fields), epochs, wall_seconds (since the start, data
    loading and evaluation included), test_acc, test_acc_flips, train_loss, train_acc,
    examples, train_seconds (the training loop, data included), compute_seconds (forward,
    backward, step only), train_flops (spent so far),
    device, precision, machine (describe_machine(); "A, then B" for a run resumed on another
    machine), machines (where each epoch ran), others_cpu (per epoch, the share of the CPU
    other processes used: a run that shared the machine says so), date

`measure` makes one; `save_json` writes a file of them whole or not at all; `load_runs` reads a
file of runs back, refusing anything else with one line that names the file.
"""
import dataclasses
import datetime
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from ..data import TRAIN_IMAGES, load_data_fashion_mnist
from ..model import resnet18
from ..presets import get_preset
from ..shapes import count_flops
from ..machine import describe_machine  # noqa: F401 (re-exported)
from ..train import train

FIGURE_FORMATS = (".png", ".pdf", ".svg")
RUN_FIELDS = ("preset", "epochs", "wall_seconds", "test_acc", "test_acc_flips", "train_loss",
              "train_acc", "device", "precision", "machine")


def measure(name, data=None, seed=0, device=None, progress=True, build=resnet18, checkpoint=None,
            resume=None, precision="auto", **overrides):
    """Train `build()` (default ResNet-18) once with preset `name`, its fields overridden by
    `overrides`; the run's record (see the module docstring). With `checkpoint` (a path) the
    run is saved after every epoch and, unless resume=False, resumed if the file exists."""
    preset = get_preset(name, **overrides)
    torch.manual_seed(seed)
    started = time.perf_counter()
    train_iter, test_iter = load_data_fashion_mnist(preset.batch_size, root=data, seed=seed,
                                                    **preset.data_options())
    loading = time.perf_counter() - started
    history = train(build(), train_iter, test_iter, preset.num_epochs, preset.lr, device,
                    recipe=_seeded(preset, seed), precision=precision, live_plot=False,
                    progress=progress,
                    checkpoint=checkpoint,
                    resume=checkpoint is not None if resume is None else resume)
    spent = training_flops(preset, history.examples, build)
    return {"preset": name, "about": preset.about,
            "recipe": json.loads(json.dumps(dataclasses.asdict(preset))),
            "epochs": len(history.test_acc),
            "wall_seconds": [loading + s for s in history.wall_seconds],
            "test_acc": history.test_acc, "test_acc_flips": history.test_acc_flips,
            "train_loss": history.train_loss, "train_acc": history.train_acc,
            "examples": history.examples, "train_seconds": history.train_seconds,
            "compute_seconds": history.compute_seconds,
            "train_flops": spent, "device": history.device, "precision": history.precision,
            "machine": ", then ".join(dict.fromkeys(history.machines)) or describe_machine(),
            "machines": history.machines, "others_cpu": history.others_cpu,
            "date": datetime.date.today().isoformat(),
            "interrupted": history.interrupted}


def _seeded(preset, seed):
    """The preset as the recipe a checkpoint records, with the seed where it is not 0: the
    seed sets the init and the data order, so a resume under another seed is refused (as
    train() refuses any other change of recipe). Seed 0 adds nothing, so checkpoints saved
    before the seed was recorded resume as before."""
    if not seed:
        return preset
    seeded = dataclasses.make_dataclass("SeededPreset", [("seed", int, 0)],
                                        bases=(type(preset),), frozen=True)
    return seeded(**{f.name: getattr(preset, f.name) for f in dataclasses.fields(preset)},
                  seed=seed)


SHARED_ABOVE = 0.1  # others using more than a tenth of the CPU in an epoch: not measured alone


def shared_cpu(run):
    """The largest share of the CPU other processes used in any epoch of run, if above
    SHARED_ABOVE (the run's times are not the machine's alone); else None. Runs saved before
    this was recorded have no others_cpu and give None."""
    shares = [s for s in run.get("others_cpu") or () if s is not None]
    return max(shares) if shares and max(shares) > SHARED_ABOVE else None


def epoch_sides(preset, epochs):
    """The image side of each of the first `epochs` epochs (progressive resizing changes it)."""
    return (list(preset.progressive) + [preset.resize or 28] * epochs)[:epochs]


def training_flops(preset, examples, build=resnet18):
    """The training FLOPs spent after each epoch, `examples` being the examples each epoch saw:
    one example's forward and backward at that epoch's side, times the examples; counted, not
    timed, so the same on any machine."""
    flops, spent = {}, []
    for side, seen in zip(epoch_sides(preset, len(examples)), examples):
        if side not in flops:
            flops[side] = count_flops(build(), (1, 1, side, side), backward=True)
        spent.append((spent[-1] if spent else 0) + flops[side] * seen)
    return spent


def book_flops():
    """The training FLOPs of the book recipe's run: 10 epochs of 60,000 images at 96x96, the
    unit of compute to accuracy (README)."""
    book = get_preset("book")
    return book.num_epochs * TRAIN_IMAGES * count_flops(resnet18(), (1, 1, book.resize,
                                                                     book.resize), backward=True)


def book_compute_fraction(run):
    """A saved ResNet-18 run's training compute after each epoch, as a fraction of the book
    recipe's (book_flops), counted from its recipe and the examples each epoch saw: the same
    for runs saved before train_flops was recorded."""
    from ..presets import Preset
    book = book_flops()
    return [spent / book for spent in training_flops(Preset(**run["recipe"]), run["examples"])]


def training_bytes(build, side, batch_size, in_channels=1):
    """About the memory one training step of ``build()`` takes on batch_size images of
    side x side: the weights three times (with their gradients and momentum) and every layer's
    output, kept for the backward pass; counted on the meta device, so nothing is allocated."""
    with torch.device("meta"):
        net = build()
        outputs = [0]

        def count(module, inputs, output):
            outputs[0] += output.numel() if isinstance(output, torch.Tensor) else 0

        for module in net.modules():
            if not list(module.children()):
                module.register_forward_hook(count)
        net.eval()(torch.empty(1, in_channels, side, side))  # eval: one image through BatchNorm
    weights = sum(p.numel() for p in net.parameters())
    return 4 * (3 * weights + batch_size * (outputs[0] + in_channels * side * side))


def machine_bytes():
    """This machine's memory in bytes (None where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(what, needed, advice):
    """Refuse, before anything is allocated, a run that needs more memory than the machine
    has (it would swap for hours or be killed, saying nothing); one line with the advice."""
    total = machine_bytes()
    if total and needed > total:
        raise ValueError(f"{what} would take about {needed / 1e9:,.0f} GB for one training "
                         f"step, more than this machine's {total / 1e9:,.0f} GB; {advice}")


def check_output(out, formats=FIGURE_FORMATS, also=()):
    """Refuse, before any training, a figure path that cannot be written: another format, a
    folder (or a folder where its .json, or a path in ``also``, goes), a parent that is a file,
    a read-only folder. Returns it as a Path."""
    out = Path(out)
    if out.is_dir():
        raise ValueError(f"cannot save the figure as {out}: it is a folder")
    if out.suffix.lower() not in formats:
        raise ValueError(f"cannot save the figure as {out}: name a {', '.join(formats)} file "
                         f"(its numbers go beside it as .json)")
    parent = next(p for p in out.parents if p.exists())
    if not parent.is_dir():
        raise ValueError(f"cannot save the figure as {out}: {parent} is a file, not a folder")
    for beside in (out.with_suffix(".json"), *also):
        if beside.is_dir():
            raise ValueError(f"cannot save {beside} beside the figure {out}: it is a folder")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out.parent):
            pass
    except OSError as err:
        raise ValueError(f"cannot save the figure as {out}: {err.strerror or err}") from None
    return out


def markdown_table(headers, rows):
    """A Markdown table: a header line, the rule, then each row's cells."""
    return "\n".join(["| " + " | ".join(headers) + " |", "|---" * len(headers) + "|"]
                     + ["| " + " | ".join(cells) + " |" for cells in rows])


def save_json(path, value):
    """Write value as JSON to path through a temporary file of its own (made with O_EXCL, so
    never a planted link): whole or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(value, indent=1) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


KINDS = {"frontier": "frontier's runs ({preset: run})",
         "versus": "a versus comparison (recipe, machine, nets)",
         "degradation": "a degradation experiment (plain, residual, config)"}


def json_kind(saved):
    """Which command's file a parsed JSON value looks like: a key of KINDS, else None."""
    if not isinstance(saved, dict):
        return None
    if isinstance(saved.get("nets"), dict):
        return "versus"
    if {"plain", "residual", "config"} <= set(saved):
        return "degradation"
    if all(isinstance(run, dict) and "preset" in run for run in saved.values()):
        return "frontier"
    return None


def read_json(path):
    """The JSON value in path, or a ValueError naming the file in one line."""
    path = Path(path)
    try:
        if not path.is_file():
            raise ValueError(f"{path} is not a file")
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not a JSON file ({getattr(err, 'strerror', None) or err});"
                         f" move it away or name another --out") from None


def check_kind(path, kind):
    """Refuse, before any training, to write ``kind``'s numbers (a key of KINDS) over a file
    at path that holds anything else: one line naming the file and what it holds. Nothing
    there is fine."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return
    found = json_kind(read_json(path))
    if found != kind:
        what = KINDS[found] if found else "something else"
        raise ValueError(f"{path} holds {what}, not {KINDS[kind]}: it would be overwritten; "
                         f"move it away or name another --out")


def load_runs(path, missing_ok=True, kind=None):
    """The runs saved in path, {name: run}: a frontier file ({preset: run}), or a versus file
    ({"recipe", "machine", "nets": {net: run}}, read as its nets); kind="frontier" or
    "versus" accepts only that kind. No file: {} if missing_ok. Anything else is refused with
    one line naming the file."""
    path = Path(path)
    if not path.exists() and missing_ok:
        return {}

    def refuse(why):
        return ValueError(f"{path} does not hold saved runs: {why}; move it away or name "
                          f"another --out")

    try:
        saved = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise refuse(f"it is not JSON ({err})") from None
    if kind:
        check_kind(path, kind)
    if isinstance(saved, dict) and isinstance(saved.get("nets"), dict):
        saved = saved["nets"]
    if not isinstance(saved, dict):
        raise refuse(f"it holds a JSON {type(saved).__name__}, not an object of runs")
    for name, run in saved.items():
        if not isinstance(run, dict):
            raise refuse(f"its entry {name!r} is not a run")
        missing = [field for field in RUN_FIELDS if field not in run]
        if missing:
            raise refuse(f"its run {name!r} lacks {', '.join(missing)}")
        if not run["test_acc"] or len(run["test_acc"]) != len(run["wall_seconds"]):
            raise refuse(f"its run {name!r} has not one wall time per epoch")
    return saved
