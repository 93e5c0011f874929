"""The speed records' tricks, one at a time on top of `quick` at a small budget, on several seeds.

    python -m d2lresnet ablation --seeds 0 1 2            # trains what is not saved yet
    python -m d2lresnet ablation --table                  # the README's and 08's table

Each trick (TRICKS) changes the base recipe (quick at 32x32, 4 epochs, batch 128, with the
book's Xavier stem: about 1/20 of the book recipe's training compute) in one way; every run
records its test accuracy and the compute spent after each epoch, and, at the end, the test
accuracy with test-time flips and with flips and 2-pixel shifts (measured on the same nets, no
training of their own). The runs are saved after each one in a JSON file
(notebooks/figures/ablation.json) and a rerun trains only what is missing, so the table can be
built up over several sittings; with ``--processes 2`` two runs share the CPU, one thread each.
``--budget 1/10`` trains the same at about a tenth, ``--budget 1/20+whiten`` and
``--budget 1/10+whiten`` at 1/20 and 1/10 on the whitened stem (notebooks/figures/
ablation_whitened.json and ablation_tenth_whitened.json), to stack the others on it.
"""
import dataclasses
import datetime
import json
import multiprocessing as mp
import statistics
from pathlib import Path

import torch
from torch.nn import functional as F

from .. import i18n
from ..data import load_data_fashion_mnist
from ..machine import describe_machine
from ..model import resnet18
from ..presets import get_preset
from ..train import evaluate_accuracy, train
from .frontier import compute_to
from .runs import book_flops, markdown_table, read_json, save_json, training_flops

# The base recipe at each budget: quick shrunk to about 1/20 and 1/10 of the book recipe's
# training compute (0.044 and 0.103), one saved file each. The base keeps the book's Xavier
# stem, as quick had when the table was made: whitening it is one of the tricks measured.
BUDGETS = {"1/20": ("quick", dict(resize=32, num_epochs=4, batch_size=128, whiten_stem=False)),
           "1/10": ("quick", dict(resize=40, num_epochs=4, batch_size=128, whiten_stem=False))}
# The others stacked on the one that helped, as airbench builds its table: each budget with
# the whitened stem that quick has today.
BUDGETS["1/20+whiten"] = ("quick", dict(BUDGETS["1/20"][1], whiten_stem=True))
BUDGETS["1/10+whiten"] = ("quick", dict(BUDGETS["1/10"][1], whiten_stem=True))
SAVED = {"1/20": "notebooks/figures/ablation.json",
         "1/10": "notebooks/figures/ablation_tenth.json",
         "1/20+whiten": "notebooks/figures/ablation_whitened.json",
         "1/10+whiten": "notebooks/figures/ablation_tenth_whitened.json"}
BASE = BUDGETS["1/20"]
# In the order of airbench's ablation table, then the others the issue names.
TRICKS = {
    "base": {},
    "zero_init_residual": dict(zero_init_residual=True),
    "whiten_stem": dict(whiten_stem=True),
    "no_decay_norm_bias": dict(decay_norm_and_bias=False),
    "bn_bias_lr_10x": dict(bn_bias_lr=10.0),
    "lookahead": dict(lookahead=True),
    "alternate_flips": dict(alternate_flips=True),
    "lr_0.2_smoothing_0.2": dict(lr=0.2, label_smoothing=0.2),
    "warmup_0.15": dict(warmup=0.15),
}
KIND = "ablation"


def shifted(X, dy, dx):
    """X moved by (dy, dx) pixels, the background (0) coming in at the edge."""
    if not (dy or dx):
        return X
    pad = max(abs(dy), abs(dx))
    h, w = X.shape[-2:]
    padded = F.pad(X, [pad] * 4)
    return padded[..., pad - dy:pad - dy + h, pad - dx:pad - dx + w]


def tta_accuracy(net, test_iter, shift=2):
    """Test accuracy with each image's probabilities averaged over its mirror and its copies
    moved by `shift` pixels up, down, left and right (10 views)."""
    views = [(0, 0), (shift, 0), (-shift, 0), (0, shift), (0, -shift)]
    net.eval()
    correct = total = 0
    with torch.no_grad():
        for X, y in test_iter:
            p = sum(torch.softmax(net(shifted(V, dy, dx)).float(), dim=1)
                    for V in (X, X.flip(-1)) for dy, dx in views)
            correct += (p.argmax(dim=1) == y).sum().item()
            total += len(y)
    return correct / total


def run_one(trick, seed, data=None, base=None):
    """Train the base recipe (default BASE) changed by TRICKS[trick] with this seed; the
    run's record."""
    name, overrides = base or BASE
    changes = {**overrides, **TRICKS[trick]}
    # Its own words, not the preset's: quick's describe quick's recipe, not this one.
    about = f"{name} with " + ", ".join(f"{key}={value}" for key, value in changes.items())
    preset = get_preset(name, **changes, about=about)
    torch.manual_seed(seed)
    train_iter, test_iter = load_data_fashion_mnist(preset.batch_size, root=data, seed=seed,
                                                    **preset.data_options())
    net = resnet18()
    history = train(net, train_iter, test_iter, preset.num_epochs, preset.lr, "cpu",
                    recipe=preset, progress=False)
    book = book_flops()
    return {"trick": trick, "seed": seed,
            "recipe": json.loads(json.dumps(dataclasses.asdict(preset))),
            "test_acc": history.test_acc,
            "book_compute_fraction": [f / book for f in training_flops(preset,
                                                                       history.examples)],
            "test_acc_flips": evaluate_accuracy(net, test_iter, precision=history.precision,
                                                flips=True),
            "test_acc_tta": tta_accuracy(net, test_iter),
            "train_seconds": history.train_seconds, "others_cpu": history.others_cpu,
            "precision": history.precision, "machine": describe_machine(),
            "date": datetime.date.today().isoformat()}


def _worker(job):
    torch.set_num_threads(1)  # several runs share the cores
    return run_one(*job)


class _NoPool:
    """One run at a time in this process, with all its threads."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def imap_unordered(self, worker, jobs):
        return (run_one(*job) for job in jobs)


def load(path, missing_ok=True, base=None):
    """The saved ablation {"kind", "base", "runs": {"trick/seed": run}}; a new one if none
    (missing_ok); another command's file, or one made at another budget than `base`'s, is
    refused, naming it."""
    path = Path(path)
    if not path.exists() and missing_ok:
        return {"kind": KIND, "base": (base or BASE)[1], "runs": {}}
    saved = read_json(path)
    if not isinstance(saved, dict) or saved.get("kind") != KIND:
        raise ValueError(f"{path} does not hold an ablation; move it away or name another "
                         f"--out")
    if base is not None and saved.get("base") != json.loads(json.dumps(base[1])):
        raise ValueError(f"{path} holds runs at another budget ({saved.get('base')}); "
                         f"name another --out")
    return saved


def run(tricks=tuple(TRICKS), seeds=(0, 1, 2), out=SAVED["1/20"], data=None, processes=1,
        base=None):
    """Train every (trick, seed) not yet in `out` on `base` (default BASE), saving after each
    run; seed by seed, so that two processes train a seed's tricks side by side."""
    base = base or BASE
    unknown = set(tricks) - set(TRICKS)
    if unknown:
        raise ValueError(f"no trick named {', '.join(sorted(unknown))}; choose from "
                         f"{', '.join(TRICKS)}")
    same = [t for t in tricks if t != "base" and TRICKS[t].items() <= base[1].items()]
    if same:
        raise ValueError(f"{', '.join(same)} is already in this base recipe; leave it out")
    saved = load(out, base=base)
    save_json(out, saved)  # a file that cannot be written fails now, not after a run
    jobs = [(t, s, data, base) for s in seeds for t in tricks
            if f"{t}/{s}" not in saved["runs"]]  # base travels: a new process reads its own
    print(f"{len(jobs)} runs to train", flush=True)
    with mp.get_context("spawn").Pool(processes) if processes > 1 else _NoPool() as pool:
        for result in pool.imap_unordered(_worker, jobs):
            saved["runs"][f"{result['trick']}/{result['seed']}"] = result
            save_json(out, saved)
            print(f"{result['trick']} seed {result['seed']}: test acc "
                  f"{result['test_acc'][-1]:.4f} (flips {result['test_acc_flips']:.4f}, "
                  f"flips+shifts {result['test_acc_tta']:.4f}) after "
                  f"{sum(result['train_seconds']):.0f} s", flush=True)
    return saved


def rows(saved, target=0.92):
    """Per trick: seeds, mean and spread of the final test accuracy, compute spent, compute
    to `target` on the worse seed (None: not reached on every seed), mean with flips, mean
    with flips and shifts."""
    by_trick = {}
    for run in saved["runs"].values():
        by_trick.setdefault(run["trick"], []).append(run)
    table = []
    for trick in [t for t in TRICKS if t in by_trick]:
        runs = by_trick[trick]
        final = [r["test_acc"][-1] for r in runs]
        reached = [compute_to(r, target) for r in runs]  # frontier's: first epoch at target
        table.append({"trick": trick, "seeds": len(runs), "mean": statistics.mean(final),
                      "compute_to": None if None in reached else max(reached),
                      "spread": max(final) - min(final),
                      "compute": runs[0]["book_compute_fraction"][-1],
                      "flips": statistics.mean(r["test_acc_flips"] for r in runs),
                      "tta": statistics.mean(r["test_acc_tta"] for r in runs)})
    return table


def plot_ablation(saved, path=None):
    """Each trick's final test accuracy on every seed (dots) and their mean (a bar), against
    the base's mean (dashed line): what one change to the base recipe is worth, and how far
    the seeds alone spread. Text in the i18n language."""
    import matplotlib.pyplot as plt

    from ..drawing.plots import save_figure
    table = rows(saved)
    fig, ax = plt.subplots(figsize=(8.5, 0.45 * len(table) + 1.4))  # the legend beside
    for y, row in enumerate(table):
        finals = [r["test_acc"][-1] for r in saved["runs"].values() if r["trick"] == row["trick"]]
        ax.plot(finals, [y] * len(finals), "o", color="C0", alpha=0.7, ms=5,
                label=i18n.label("ablation_seed") if y == 0 else None)
        ax.plot([row["mean"]] * 2, [y - 0.3, y + 0.3], color="C3", lw=2,
                label=i18n.label("ablation_mean") if y == 0 else None)
    base = next((r["mean"] for r in table if r["trick"] == "base"), None)
    if base is not None:
        ax.axvline(base, color="grey", ls="--", lw=0.8)
    ax.set_yticks(range(len(table)), [r["trick"] for r in table])
    ax.invert_yaxis()  # the base on top, the tricks in the table's order below
    ax.set(xlabel=i18n.label("ablation_x", compute=f"{table[0]['compute']:.3f}" if table
                             else "?"),
           title=i18n.label("ablation_title_whitened" if saved.get("base", {}).get("whiten_stem")
                            else "ablation_title"))
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    if path:
        save_figure(fig, path)
    return fig


def format_table(saved):
    """The ablation as a Markdown table, headers in the i18n language."""
    table = rows(saved)
    if not table:
        return i18n.tr("no_runs")
    base = next((r["mean"] for r in table if r["trick"] == "base"), None)
    headers = [i18n.tr(f"col_{h}") for h in ("trick", "seeds", "compute", "acc_mean",
                                               "vs_base", "with_flips", "flips_shifts")]
    headers.insert(3, i18n.tr("col_compute_to", acc="0.92"))
    cells = []
    for r in table:
        change = "" if base is None or r["trick"] == "base" else f"{r['mean'] - base:+.4f}"
        to = "–" if r["compute_to"] is None else f"{r['compute_to']:.3f}"
        cells.append([f"`{r['trick']}`", str(r["seeds"]), f"{r['compute']:.3f}", to,
                      f"{r['mean']:.4f} ± {r['spread'] / 2:.4f}", change, f"{r['flips']:.4f}",
                      f"{r['tta']:.4f}"])
    return markdown_table(headers, cells)
