"""The degradation experiment: plain and residual 6n+2 twins of two depths, trained by the same
trainer with the same recipe on the same small subset of Fashion-MNIST, several seeds, long
enough for the other nets to fit every image: deeper-plain-trains-worse is then not a run
stopped before anything could fit. (No curve is quite flat at a constant learning rate:
summarize() says how fast each still falls.)

From a terminal (the run's size follows the preset, as training does):

    python -m d2lresnet degradation --preset book --out notebooks/figures/plateau.png
"""
import dataclasses
import json
import time
from pathlib import Path

import torch

from .. import i18n
from ..data import FashionMNISTBatches
from ..drawing.plots import save_figure
from ..presets import default_preset_name, get_preset
from ..train import train
from .twins import cifar_resnet, depth_to_n

# A constant learning rate, so no schedule forces the curves flat: each falls as fast as its
# net can fit. The run's size comes with the preset (Preset.twins).
RECIPE = dict(lr=0.05, momentum=0.9)  # the same for every net


def run_config(preset=None, **overrides):
    """The run for a preset (default: default_preset_name()): its ``twins`` size, with fields
    overridden (None leaves a field as it is)."""
    twins = dataclasses.asdict(get_preset(preset).twins)
    unknown = set(overrides) - set(twins)
    if unknown:
        raise ValueError(f"a degradation run has no field(s) {', '.join(sorted(unknown))}")
    config = {**twins, **{k: v for k, v in overrides.items() if v is not None}}
    for depth in config["depths"]:
        depth_to_n(depth)  # a wrong depth fails now, not after training the others
    if len(set(config["depths"])) < len(config["depths"]):
        raise ValueError(f"each depth once, please: {config['depths']} would train a depth "
                         f"twice and keep one")
    from .runs import check_memory, training_bytes  # a depth too deep for the machine, too
    one, two = (training_bytes(lambda n=n: cifar_resnet(n), 28, config["batch_size"])
                for n in (1, 2))  # linear in n: each block adds the same
    deepest = max(config["depths"])
    check_memory(f"the {deepest}-layer networks", one + (two - one) * (depth_to_n(deepest) - 1),
                 "choose smaller --depths")
    return config


def train_twin_net(images, labels, kind, depth, seed, train_size, epochs, batch_size,
                   lr=RECIPE["lr"], momentum=RECIPE["momentum"], device=None):
    """Train one twin on train_size images of a seeded shuffle, keeping its own (Kaiming)
    init; the trained net and train()'s History."""
    subset = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    subset = subset[:train_size]
    train_iter = FashionMNISTBatches(images[subset], labels[subset], batch_size, shuffle=True,
                                     seed=seed, drop_last_single=True)
    # train() measures test accuracy every epoch; one batch keeps that cheap (not used here)
    test_iter = FashionMNISTBatches(images[subset[:batch_size]], labels[subset[:batch_size]],
                                    batch_size)
    torch.manual_seed(seed)  # the same seed: the twins start from the same weights
    net = cifar_resnet(depth_to_n(depth), plain=(kind == "plain"))
    history = train(net, train_iter, test_iter, epochs, lr, device, init=None,
                    momentum=momentum, progress=False)
    if history.interrupted:
        raise KeyboardInterrupt  # stop the whole experiment, not just this net
    return net, history


def train_twin(images, labels, kind, depth, seed, train_size, epochs, batch_size,
               lr=RECIPE["lr"], momentum=RECIPE["momentum"], device=None):
    """train_twin_net's training loss and error after every epoch (the mean over the epoch's
    batches), and its seconds."""
    _, history = train_twin_net(images, labels, kind, depth, seed, train_size, epochs,
                                batch_size, lr, momentum, device)
    return dict(loss=history.train_loss, err=[1 - a for a in history.train_acc],
                seconds=sum(history.train_seconds))


def degradation_experiment(images, labels, depths, seeds, train_size, epochs, batch_size,
                           log=print, **recipe):
    """train_twin for every kind, depth and seed.
    Returns {"plain": {depth: [run per seed]}, "residual": {...}, "config": {...}}."""
    started = time.perf_counter()
    results = dict(plain={}, residual={})
    for kind in ("plain", "residual"):
        for depth in depths:
            if log:
                log(f"{kind}-{depth}: seeds {', '.join(map(str, seeds))}")
            results[kind][depth] = [train_twin(images, labels, kind, depth, seed, train_size,
                                               epochs, batch_size, **recipe)
                                    for seed in seeds]
    results["config"] = dict(depths=tuple(depths), seeds=tuple(seeds), train_size=train_size,
                             epochs=epochs, batch_size=batch_size,
                             seconds=time.perf_counter() - started, **{**RECIPE, **recipe})
    return results


def summarize(results, level=1e-3):
    """What a run's curves show, per network: {(kind, depth): row}, each row's lists one value
    per seed: `below`, the first epoch whose mean training loss is under level (None: never);
    `loss` and `err`, the last epoch's loss and training error; `trend`, the mean loss of the
    last ten epochs over the ten before (under 1: still falling; None for a run under 20
    epochs)."""
    rows = {}
    for kind in ("plain", "residual"):
        for depth, runs in sorted(results[kind].items()):
            row = dict(below=[], loss=[], err=[], trend=[])
            for run in runs:
                loss = torch.tensor(run["loss"], dtype=torch.float64)
                below = torch.nonzero(loss < level)
                row["below"].append(int(below[0]) + 1 if len(below) else None)
                row["loss"].append(run["loss"][-1])
                row["err"].append(run["err"][-1])
                row["trend"].append((loss[-10:].mean() / loss[-20:-10].mean()).item()
                                    if len(loss) >= 20 else None)
            rows[kind, depth] = row
    return rows


def print_summary(results, level=1e-3):
    """summarize(results) as a table in the notebook's language: the first epochs under level
    per seed, and the range over seeds of the rest."""
    def span(values, form):
        values = [v for v in values if v is not None]
        if not values:
            return "-"
        low, high = form.format(min(values)), form.format(max(values))
        return low if low == high else f"{low} – {high}"

    columns = [(16, i18n.tr("deg_col_net")), (20, i18n.tr("deg_col_below")),
               (22, i18n.tr("deg_col_loss")), (16, i18n.tr("deg_col_err")),
               (16, i18n.tr("deg_col_trend"))]
    print("".join(i18n.pad(title, width) for width, title in columns).rstrip())
    for (kind, depth), row in summarize(results, level).items():
        below = ", ".join(i18n.tr("deg_never") if b is None else str(b) for b in row["below"])
        cells = [f"{i18n.tr(kind)}-{depth}", below, span(row["loss"], "{:.1e}"),
                 span([100 * e for e in row["err"]], "{:.1f} %"), span(row["trend"], "{:.2f}")]
        print("".join(i18n.pad(cell, width) for (width, _), cell in zip(columns, cells)).rstrip())


def plot_degradation(results, path=None, title_extra=""):
    """Training loss against epochs, plain left and residual right (the paper's Fig. 6
    layout), one thin line per seed, a log scale so the plateau near zero shows. Text in the
    i18n language."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, kind in zip(axes, ("plain", "residual")):
        for i, (depth, runs) in enumerate(sorted(results[kind].items())):
            for j, run in enumerate(runs):
                ax.plot(range(1, len(run["loss"]) + 1), run["loss"], color=f"C{i}", lw=1,
                        alpha=0.8, label=None if j else f"{i18n.label(kind)}-{depth}")
        ax.set(title=i18n.label("networks_title", kind=i18n.label(kind), extra=title_extra),
               xlabel=i18n.label("epoch"), yscale="log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel(i18n.label("train_loss"))
    low, high = axes[0].get_ylim()
    if high < 10 * low:  # a short run spans less than a decade: label its ticks as plain numbers
        from matplotlib.ticker import LogFormatter
        for formatter in (axes[0].yaxis.set_major_formatter, axes[0].yaxis.set_minor_formatter):
            formatter(LogFormatter(labelOnlyBase=False))
    fig.tight_layout()
    if path:
        save_figure(fig, path)
    return fig


def save_results(results, path):
    from .runs import save_json
    save_json(path, results)  # whole or not at all, through a temporary file of its own


def load_results(path):
    """The results saved by save_results (JSON turns the depth keys into strings)."""
    results = json.loads(Path(path).read_text())
    for kind in ("plain", "residual"):
        results[kind] = {int(depth): runs for depth, runs in results[kind].items()}
    return results


def check_output(out):
    """The figure's path, refused before any training if it cannot be written: PNG only,
    not a folder, a parent folder that exists or can be made."""
    out = Path(out)
    if out.suffix.lower() != ".png":
        raise ValueError(f"--out must name a .png file (the numbers go beside it as .json), "
                         f"got {out}")
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; name a .png file inside it")
    parent = next(p for p in out.parents if p.exists())
    if not parent.is_dir():
        raise ValueError(f"cannot write {out}: {parent} is a file, not a folder")
    from .runs import check_kind, check_output as check_writable
    check_writable(out, (".png",))  # a read-only folder: refused now, not after training
    check_kind(out.with_suffix(".json"), "degradation")  # never over another command's file
    return out


def run(preset=None, out="runs/degradation.png", data=None, **overrides):
    """The command line's job: run the experiment for a preset, save its numbers (.json) and
    then the figure beside them."""
    from ..data import load_fashion_mnist

    out = check_output(out)
    config = run_config(preset, **overrides)
    print(f"degradation run ({preset or default_preset_name()}): {config}")
    results = degradation_experiment(*load_fashion_mnist(True, data), **config)
    results["config"]["threads"] = torch.get_num_threads()
    print(f"total {results['config']['seconds']:.0f} s on {torch.get_num_threads()} threads")
    save_results(results, out.with_suffix(".json"))  # the numbers first: a plot can fail
    plot_degradation(results, out)
    print(f"saved {out} and its numbers {out.with_suffix('.json')}")
    return results
