"""A plain CNN against ResNet-18 on Fashion-MNIST under one recipe, as fastbook's chapter 14
compares its simple CNN with a ResNet.

    python -m d2lresnet versus --preset quick --resize 28

trains `model.plain_cnn` and then `model.resnet18` with the same preset, seed and data order,
recording test accuracy and wall time after every epoch (as `frontier` does), and saves the
figure and its numbers (.json beside it).
"""
import statistics

from .. import i18n
from ..drawing.plots import save_figure
from ..model import count_parameters, plain_cnn, resnet18
from ..presets import default_preset_name, get_preset
from .runs import check_output, describe_machine, load_runs, measure, save_json

L = i18n.label
NETS = {"plain_cnn": plain_cnn, "resnet18": resnet18}


def compare(preset="quick", data=None, seed=0, device=None, progress=True, **overrides):
    """Both nets trained with one recipe: {"recipe": ..., "nets": {name: run}}."""
    recipe = get_preset(preset, **overrides)
    runs = {}
    for name, build in NETS.items():
        runs[name] = measure(preset, data, seed, device, progress, build=build, **overrides)
        if runs[name].pop("interrupted"):
            raise KeyboardInterrupt
        runs[name]["params"] = count_parameters(build())
    return {"recipe": {"preset": recipe.name, "resize": recipe.resize or 28,
                       "epochs": recipe.num_epochs, "lr": recipe.lr,
                       "batch_size": recipe.batch_size, "limit": recipe.limit,
                       "augment": recipe.augment, **recipe.train_options()},
            "machine": describe_machine(), "nets": runs}


def median_epoch_seconds(run):
    """The median wall time of one epoch: a fair figure even if another job shared the CPU
    during an epoch or two (the total would count that)."""
    ends = [0.0] + run["wall_seconds"]
    return statistics.median(b - a for a, b in zip(ends, ends[1:]))


def plot_versus(result, path=None):
    """Test accuracy per epoch of each net; the legend says its size and its time per epoch."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, run in result["nets"].items():
        epochs = range(1, len(run["test_acc"]) + 1)
        ax.plot(epochs, run["test_acc"], "o-", ms=4,
                label=L("versus_line", net=L(name), acc=f"{run['test_acc'][-1]:.3f}",
                        params=f"{run['params'] / 1e6:.2f}",
                        seconds=f"{median_epoch_seconds(run):.0f}"))
    recipe = result["recipe"]
    ax.set(xlabel=L("epoch"), ylabel=L("test_acc"),
           title=L("versus_title", preset=recipe["preset"], side=recipe["resize"]))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.text(0.99, 0.02, result["machine"], transform=ax.transAxes, ha="right", fontsize=7,
            color="grey")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right", bbox_to_anchor=(1, 0.08))
    fig.tight_layout()
    if path:
        save_figure(fig, path)
    return fig


def run(preset=None, out="runs/versus.png", data=None, device=None, **overrides):
    """Compare, then save the JSON and the figure beside it; print one line per net.
    preset None: $D2LRESNET_PRESET, else as presets.default_preset_name() says. The preset,
    the figure's path and any JSON already beside it are checked before anything trains."""
    preset = preset or default_preset_name()
    get_preset(preset, **overrides)
    out = check_output(out)
    json_path = out.with_suffix(".json")
    load_runs(json_path, kind="versus")  # any other file is refused, not overwritten
    result = compare(preset, data, device=device, **overrides)
    save_json(json_path, result)  # the numbers first: a figure that fails loses nothing
    plot_versus(result, out)
    for name, net_run in result["nets"].items():
        print(f"{name}: {net_run['params']:,} parameters, test acc {net_run['test_acc'][-1]:.3f} "
              f"after {net_run['wall_seconds'][-1]:.0f} s")
    print(f"saved {out} and {json_path}")
    return result
