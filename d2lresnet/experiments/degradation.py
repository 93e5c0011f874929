"""The degradation experiment: plain and residual 6n+2 twins of several depths, trained by the
same trainer with the same recipe and data; training error per epoch and a finer curve.

From a terminal (the run's length follows the preset, as training does):

    python -m d2lresnet degradation --preset book --out notebooks/figures/degradation.png
"""
import json
import time
from pathlib import Path

import torch

from ..data import FashionMNISTBatches
from .. import i18n
from ..drawing.plots import save_figure
from ..presets import PRESETS, default_preset_name
from ..train import train
from .twins import cifar_resnet, depth_to_n

# Run length by preset name (D2LRESNET_PRESET or --preset). The notes have no such
# experiment: "book" is the full run of notebooks/figures/degradation.png (about 9 minutes on
# a 2-core CPU), "quick" the same depths in a sixth of the work, "smoke" seconds. Each shows
# the deep plain net training worse (smoke: 8 vs 32 layers, 64 steps; checked on 3 seeds,
# where plain-32 ended 0.15 to 0.29 above plain-8).
RUNS = {
    "smoke": dict(depths=(8, 32), epochs=2, train_size=1024, test_size=256, batch_size=32),
    "quick": dict(depths=(20, 56), epochs=3, train_size=5_000, test_size=1_000, batch_size=64),
    "book": dict(depths=(20, 56), epochs=6, train_size=15_000, test_size=2_000,
                 batch_size=128),
}
RUNS["best"] = RUNS["book"]  # the longest training recipe gets the full run too
# The same for every network: the paper's SGD settings, with a one-cycle schedule (peak lr).
RECIPE = dict(lr=0.1, momentum=0.9, weight_decay=1e-4)


def run_config(preset=None, **overrides):
    """The run for a preset (default: default_preset_name()), with fields overridden."""
    name = preset or default_preset_name()
    if name not in RUNS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    unknown = set(overrides) - set(RUNS[name])
    if unknown:
        raise ValueError(f"a degradation run has no field(s) {', '.join(sorted(unknown))}")
    config = {**RUNS[name], **{k: v for k, v in overrides.items() if v is not None}}
    for depth in config["depths"]:
        depth_to_n(depth)  # a wrong depth fails now, not after training the others
    return config


def train_twin(net, train_iter, test_iter, epochs, lr=RECIPE["lr"], momentum=RECIPE["momentum"],
               weight_decay=RECIPE["weight_decay"], points_per_epoch=10, device=None,
               precision="auto", progress=False):
    """Train one net with d2lresnet's trainer, keeping the net's own (Kaiming) init: SGD with
    momentum, a one-cycle learning rate, bf16 where the hardware has it. Returns per-epoch
    training and test error and a finer curve, points_per_epoch points an epoch, each the
    training error on the batches since the point before."""
    steps = len(train_iter)
    points = min(points_per_epoch, steps)
    ends = {round(steps * (k + 1) / points) for k in range(points)}  # steps that end a point
    curve, wrong, seen = [], 0, 0

    def on_batch(step, loss, correct, size):
        nonlocal wrong, seen
        wrong, seen = wrong + size - correct, seen + size
        if (step - 1) % steps + 1 in ends:
            curve.append((step / steps, wrong / seen))
            wrong = seen = 0

    started = time.perf_counter()
    history = train(net, train_iter, test_iter, epochs, lr, device, init=None,
                    precision=precision, momentum=momentum, weight_decay=weight_decay,
                    one_cycle=True, live_plot=False, progress=progress, on_batch=on_batch)
    if history.interrupted:
        raise KeyboardInterrupt  # stop the whole experiment, not just this net
    return dict(train_err=[1 - a for a in history.train_acc],
                test_err=[1 - a for a in history.test_acc], curve=curve,
                seconds=time.perf_counter() - started, device=history.device,
                precision=history.precision)


def degradation_experiment(images, labels, test_images, test_labels, depths, epochs,
                           train_size, test_size, batch_size, seed=0, log=print,
                           progress=False, **recipe):
    """Train plain and residual 6n+2 nets of each depth with the same recipe and data.
    images: uint8 (N, 28, 28). Returns {"plain": {depth: history}, "residual": {...},
    "config": {...}}; recipe: train_twin's options (lr, momentum, device, ...)."""
    subset = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    train_iter = FashionMNISTBatches(images[subset[:train_size]], labels[subset[:train_size]],
                                     batch_size, shuffle=True, seed=seed)
    test_iter = FashionMNISTBatches(test_images[:test_size], test_labels[:test_size], 512)
    recipe = {**RECIPE, **recipe}
    started = time.perf_counter()
    results = dict(plain={}, residual={})
    for depth in depths:
        for kind in ("plain", "residual"):
            torch.manual_seed(seed)  # the same seed: twins start from the same weights
            net = cifar_resnet(depth_to_n(depth), plain=(kind == "plain"))
            if log:
                log(f"{kind}-{depth}:")
            results[kind][depth] = train_twin(net, train_iter, test_iter, epochs,
                                              progress=progress, **recipe)
    results["config"] = dict(depths=tuple(depths), epochs=epochs,
                             train_size=len(train_iter.labels),
                             test_size=len(test_iter.labels), batch_size=batch_size, seed=seed,
                             threads=torch.get_num_threads(),
                             seconds=time.perf_counter() - started, **recipe)
    return results


def plot_degradation(results, path=None, title_extra=""):
    """Training-error curves, plain left and residual right (the paper's Fig. 6 layout);
    thin lines training error during each epoch, dots the test error after it. Text in the
    i18n language."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, kind in zip(axes, ("plain", "residual")):
        for i, (depth, history) in enumerate(sorted(results[kind].items())):
            color = f"C{i}"
            x, err = zip(*history["curve"])
            ax.plot(x, [100 * e for e in err], color=color, lw=1.2,
                    label=i18n.label("curve_train", kind=i18n.label(kind), depth=depth))
            epochs = range(1, len(history["test_err"]) + 1)
            ax.plot(epochs, [100 * e for e in history["test_err"]], "o--", color=color,
                    lw=0.8, ms=4, label=i18n.label("curve_test", kind=i18n.label(kind), depth=depth))
        ax.set(title=i18n.label("networks_title", kind=i18n.label(kind), extra=title_extra), xlabel=i18n.label("epoch"))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel(i18n.label("error_percent"))
    fig.tight_layout()
    if path:
        save_figure(fig, path)
    return fig


def save_results(results, path):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(results, indent=1))


def load_results(path):
    """The results saved by save_results (JSON turns the depth keys into strings)."""
    results = json.loads(Path(path).read_text())
    for kind in ("plain", "residual"):
        results[kind] = {int(depth): h for depth, h in results[kind].items()}
    return results


def run(preset=None, out="runs/degradation.png", data=None, **overrides):
    """The command line's job: run the experiment for a preset, save the figure and, beside
    it, the numbers (.json)."""
    from ..data import load_fashion_mnist

    config = run_config(preset, **overrides)
    print(f"degradation run ({preset or default_preset_name()}): {config}")
    results = degradation_experiment(*load_fashion_mnist(True, data),
                                     *load_fashion_mnist(False, data), **config, progress=True)
    print(f"total {results['config']['seconds']:.0f} s on {torch.get_num_threads()} threads")
    plot_degradation(results, out)
    save_results(results, Path(out).with_suffix(".json"))
    print(f"saved {out} and its numbers {Path(out).with_suffix('.json')}")
    return results
