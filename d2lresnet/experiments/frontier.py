"""Test accuracy against wall time and against compute for the training presets.

    python -m d2lresnet frontier --presets quick best book

trains each preset exactly as ``train --preset`` does and records, after every epoch, the test
accuracy, the wall time since the start (reading the data and evaluating included) and the
training FLOPs spent so far. Two figures, accuracy against minutes (--out) and against the
compute as a fraction of the book recipe's (<out>_compute.png, the same on any machine), and
their numbers (.json beside --out) are saved after each preset; runs of other presets already
in the file are kept, so presets can be measured one at a time on the same machine.
With ``--checkpoints DIR`` each preset saves ``DIR/<preset>.pt`` after every epoch and a rerun
resumes from it: ``book`` takes hours on a CPU, longer than a laptop may stay up.
It prints figures; nothing here asserts a time.
"""
from pathlib import Path

from .. import i18n
from ..drawing.plots import save_figure
from ..presets import get_preset
from .runs import (book_compute_fraction, check_output, describe_machine,  # noqa: F401
                   load_runs, markdown_table, measure, save_json, shared_cpu)

L = i18n.label
NOTES_TEST_ACC = 0.919  # the notes' result for the book recipe (10 epochs, 96x96)


def _notes_line(ax):
    """The notes' test accuracy as a dashed line, named in the legend (a label on the plot
    would sit where the runs cross it)."""
    ax.axhline(NOTES_TEST_ACC, color="grey", ls="--", lw=0.8,
               label=L("notes_result", acc=NOTES_TEST_ACC))


def _machine(run, text=L):
    """Where the run trained, and whether other processes shared the CPU (its times are then
    not the machine's alone)."""
    share = shared_cpu(run)
    return run["machine"] + ("" if share is None else
                             f" ({text('shared_cpu', pct=round(100 * share))})")


def plot_frontier(runs, path=None):
    """Test accuracy against wall time, one line per preset, a dot per epoch; a hollow ring is
    the last epoch with test-time flips. Text in the i18n language."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogFormatter, ScalarFormatter

    fig, ax = plt.subplots(figsize=(8.5, 4))  # room for the legend beside
    for i, run in enumerate(runs.values()):
        minutes = [s / 60 for s in run["wall_seconds"]]
        ax.plot(minutes, run["test_acc"], "o-", color=f"C{i}", ms=4,
                label=f"{run['preset']}: {run['test_acc'][-1]:.3f}, "
                      f"{L('minutes', n=f'{minutes[-1]:.0f}')}")
        if run["test_acc_flips"]:
            ax.plot(minutes[-1], run["test_acc_flips"][-1], "o", mfc="none", color=f"C{i}",
                    ms=9, label=L("with_flips", name=run["preset"],
                                  acc=f"{run['test_acc_flips'][-1]:.3f}"))
    _notes_line(ax)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ScalarFormatter())  # 10 and 100 minutes, not 10^1 and 10^2
    ax.xaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False))  # 60 and 200, not 6x10^1
    ax.set(xlabel=L("wall_minutes"), ylabel=L("test_acc"), title=L("frontier_title"))
    machines = sorted({_machine(run) for run in runs.values()})
    ax.text(0.99, 0.02, "\n".join(machines), transform=ax.transAxes, ha="right", fontsize=7,
            color="grey")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    if path:
        save_figure(fig, path)
    return fig


# Issue 28's goals: (test accuracy, at most this share of the book recipe's compute)
COMPUTE_GOALS = ((0.92, 1 / 20), (0.94, 1 / 3))


def compute_to(run, target):
    """The training compute (fraction of the book's) after the first epoch whose test
    accuracy reaches target, or None."""
    return next((c for a, c in zip(run["test_acc"], run["book_compute_fraction"])
                 if a >= target), None)


def plot_compute(runs, recipes=("book", "quick", "best"), path=None, goals=COMPUTE_GOALS,
                 xlim=(0.02, 1.3)):
    """Test accuracy against training compute, a fraction of the book recipe's 10 epochs
    (machine-free: FLOPs counted, times the examples seen), one line per seed of each recipe,
    a dot per epoch, dashed where it trained on a CPU; ``goals`` as crosses (none in the
    student's notebook: they are this project's). ``runs``: tools/gpu_runs.py's saved "runs",
    or compute_runs() of frontier's."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    fig, ax = plt.subplots(figsize=(8.5, 4))  # room for the legend beside
    drawn = [run for key, run in runs.items() if key.split("/")[0] in recipes]
    lowest = min((min(run["test_acc"]) for run in drawn), default=0.85)
    for i, recipe in enumerate(recipes):
        seeds = [run for key, run in runs.items() if key.split("/")[0] == recipe]
        finals = sorted(f"{run['test_acc'][-1]:.3f}" for run in seeds)
        for j, run in enumerate(seeds):
            ax.plot(run["book_compute_fraction"], run["test_acc"], "o", color=f"C{i}", ms=3,
                    ls="--" if run.get("device") == "cpu" else "-", lw=1, alpha=0.9,
                    label=None if j else
                    f"{recipe}: {'–'.join(dict.fromkeys([finals[0], finals[-1]]))}, "
                    f"{run['book_compute_fraction'][-1]:.3f}")
    if any(run.get("device") == "cpu" for run in drawn):  # what the dashes mean
        ax.plot([], [], color="gray", ls="--", lw=1, label=L("trained_on_cpu"))
    for (acc, share), side in zip(goals, ("left", "right")):  # text away from the edge
        ax.plot(share, acc, "x", color="black", ms=9, mew=2)
        ax.annotate(L("compute_goal", acc=acc, share=f"1/{round(1 / share)}"), (share, acc),
                    textcoords="offset points", xytext=(8 if side == "left" else -8, 5),
                    ha=side, fontsize=8)
    _notes_line(ax)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ScalarFormatter())
    if xlim[1] / xlim[0] < 20:  # a narrow range: a labelled tick at each epoch's end
        ends = sorted({round(c, 3) for run in drawn for c in run["book_compute_fraction"]})
        ax.set_xticks(ends, [f"{c:.3f}" for c in ends])
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set(xlabel=L("book_compute"), ylabel=L("test_acc"), title=L("compute_title"),
           xlim=xlim, ylim=(min(0.85, lowest - 0.005), 0.95))  # every dot shown
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    if path:
        save_figure(fig, path)
    return fig


def compute_runs(runs):
    """Saved frontier runs with each epoch's book_compute_fraction, as plot_compute reads them;
    a run saved without its recipe and examples per epoch cannot be counted and is left out."""
    return {name: {**run, "book_compute_fraction": book_compute_fraction(run)}
            for name, run in runs.items() if "recipe" in run and "examples" in run}


def compute_figure_path(out):
    """Where the compute figure goes: frontier.png -> frontier_compute.png beside it."""
    out = Path(out)
    return out.with_name(f"{out.stem}_compute{out.suffix}")


def format_table(runs, targets=(0.90, 0.92, 0.94)):
    """The runs as a Markdown table (for the README), headers in the i18n language: per
    preset its wall time, final test accuracy, the compute it spent and the compute at which
    it first reached each target (fractions of the book recipe's; –: not reached, or a run
    saved without its recipe), and where it ran."""
    if not runs:
        return i18n.tr("no_runs")
    counted = compute_runs(runs)
    headers = [i18n.tr(f"col_{h}") for h in ("preset", "epochs", "wall", "test_acc",
                                               "with_flips", "compute")]
    headers += [i18n.tr("col_compute_to", acc=f"{t:.2f}") for t in targets]
    headers.append(i18n.tr("col_machine"))
    rows = []
    for name, run in runs.items():
        flips = f"{run['test_acc_flips'][-1]:.3f}" if run["test_acc_flips"] else "–"
        wall = i18n.tr("minutes", n=f"{run['wall_seconds'][-1] / 60:.1f}")
        compute = ["–"] * (1 + len(targets))
        if name in counted:
            reached = [compute_to(counted[name], t) for t in targets]
            compute = [f"{c:.3f}" if c is not None else "–"
                       for c in [counted[name]["book_compute_fraction"][-1], *reached]]
        rows.append([f"`{run['preset']}`", str(run["epochs"]), wall, f"{run['test_acc'][-1]:.3f}",
                     flips, *compute, _machine(run, i18n.tr)])
    return markdown_table(headers, rows)


def run(preset_names, out="runs/frontier.png", data=None, device=None, checkpoints=None):
    """Measure each preset in turn, saving the JSON and then the figure after each; with
    `checkpoints` (a folder) each preset resumes from, and saves to, <folder>/<preset>.pt.
    The names, the figure's path and the JSON beside it are checked before anything trains."""
    for name in preset_names:
        get_preset(name)  # an unknown name fails now, not after the others have trained
    out = check_output(out, also=(compute_figure_path(out),))
    json_path = out.with_suffix(".json")
    runs = load_runs(json_path, kind="frontier")  # never another command's file
    if checkpoints:
        Path(checkpoints).mkdir(parents=True, exist_ok=True)
    for name in preset_names:
        checkpoint = Path(checkpoints) / f"{name}.pt" if checkpoints else None
        runs[name] = measure(name, data, device=device, checkpoint=checkpoint)
        if runs[name].pop("interrupted"):
            raise KeyboardInterrupt
        save_json(json_path, runs)  # the numbers first: a figure that fails loses nothing
        plot_frontier(runs, out)
        plot_compute(compute_runs(runs), recipes=list(runs), path=compute_figure_path(out))
        print(f"{name}: test acc {runs[name]['test_acc'][-1]:.3f} after "
              f"{runs[name]['wall_seconds'][-1]:.0f} s; saved {out}, "
              f"{compute_figure_path(out)} and {json_path}")
    print(format_table(runs))
    return runs
