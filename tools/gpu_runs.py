"""The saved runs that take hours on a 2-core CPU, made on one CUDA GPU in minutes.

    python -m tools.gpu_runs --out runs/gpu [--only plateau|recipes]
    python -m tools.gpu_runs --table notebooks/figures/recipes_gpu.json   # the README's table

plateau: notebook 06's twins (plain and residual, 20 and 56 layers) on a small subset of
Fashion-MNIST, three seeds, trained until the training loss levels off (the book preset's
``twins``). recipes: ResNet-18 recipes for issue 28, each with its test accuracy and
the training compute spent after every epoch (forward + backward FLOPs, counted by
d2lresnet.shapes.count_flops, times the examples seen), as a fraction of the book recipe's 10
epochs at 96x96. Compute does not depend on the machine, so these numbers hold on a CPU too.
Each job runs in a process of its own (several share the GPU); results are JSON in --out.
"""
import argparse
import dataclasses
import json
import multiprocessing as mp
import platform
import sys
import time
from pathlib import Path

from d2lresnet.experiments.frontier import compute_to  # noqa: F401 (the table's, and tested here)
from d2lresnet.experiments.runs import markdown_table

# name: Preset overrides (on top of the named preset), for the recipe sweep. Two keys are
# measured beside the recipe, not part of it: "ema", decays of moving averages of the weights
# (each tested after every epoch), and "test_sides", sides the final net is also tested at.
RECIPES = {
    "book": ("book", {}),
    "quick": ("quick", {}),
    "best": ("best", {}),
    "q28x4": ("quick", dict(resize=None, num_epochs=4)),
    "q32x4": ("quick", dict(resize=32, num_epochs=4)),
    "q32x4-b128": ("quick", dict(resize=32, num_epochs=4, batch_size=128)),
    "q40x2": ("quick", dict(resize=40, num_epochs=2)),
    "q28x4-b128": ("quick", dict(resize=None, num_epochs=4, batch_size=128)),
    "q32x3-b128": ("quick", dict(resize=32, num_epochs=3, batch_size=128)),
    "q48x10": ("quick", dict(num_epochs=10)),
    "b48x6-64x3": ("best", dict(num_epochs=9, progressive=(48,) * 6)),  # best until this run
    "b48x6-64x4": ("best", dict(num_epochs=10, progressive=(48,) * 6)),
    # run on the 2-core AVX2 CPU (--device cpu --processes 1): compute does not depend on it
    "q32x4-b128-flips": ("quick", dict(resize=32, num_epochs=4, batch_size=128,
                                       test_flips=True)),
    "q32x4-b128-ls0": ("quick", dict(resize=32, num_epochs=4, batch_size=128,
                                     label_smoothing=0.0, test_flips=True)),
    "q32x4-b128-ema": ("quick", dict(resize=32, num_epochs=4, batch_size=128, test_flips=True,
                                     ema=(0.99, 0.998, 0.9995), test_sides=(28, 32, 36, 40))),
    "q32x4-b128-lr05": ("quick", dict(resize=32, num_epochs=4, batch_size=128, lr=0.05,
                                      test_flips=True)),  # the lr scaled with the batch
}
MEASURED_BESIDE = ("ema", "test_sides")


def machine():
    import torch
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    return (f"{gpu}; torch {torch.__version__}; {platform.machine()} "
            f"{torch.backends.cpu.get_cpu_capability()}")


def plateau_job(args):
    kind, depth, seed, config, device = args
    import torch
    torch.set_num_threads(2)
    from d2lresnet.data import load_fashion_mnist
    from d2lresnet.experiments.degradation import train_twin
    images, labels = load_fashion_mnist(True)
    run = train_twin(images, labels, kind, depth, seed, device=device, **config)
    return kind, depth, seed, run


def recipe_job(args):
    name, seed, device = args
    import torch
    torch.set_num_threads(2)
    from d2lresnet.data import load_data_fashion_mnist
    from d2lresnet.model import resnet18
    from d2lresnet.experiments.runs import book_flops, epoch_sides, training_flops
    from d2lresnet.presets import get_preset
    from d2lresnet.train import train
    base, overrides = RECIPES[name]
    beside = {key: overrides[key] for key in MEASURED_BESIDE if key in overrides}
    preset = get_preset(base, **{k: v for k, v in overrides.items() if k not in beside})
    torch.manual_seed(seed)
    train_iter, test_iter = load_data_fashion_mnist(preset.batch_size, seed=seed,
                                                    **preset.data_options())
    net = resnet18().to(device)  # on its device before the averages copy it
    started = time.perf_counter()
    on_batch, ema_acc = moving_averages(net, beside.get("ema", ()), test_iter, len(train_iter))
    history = train(net, train_iter, test_iter, preset.num_epochs, preset.lr, device,
                    recipe=preset, progress=False, on_batch=on_batch)
    extra = dict(test_acc_ema=ema_acc) if ema_acc else {}
    if beside.get("test_sides"):
        extra["test_acc_at_sides"] = accuracy_at_sides(net, beside["test_sides"])
    book = book_flops()
    compute = [spent / book for spent in training_flops(preset, history.examples)]
    sides = epoch_sides(preset, len(history.examples))
    return name, seed, dict(preset=dataclasses.asdict(preset), seed=seed, sides=sides,
                            test_acc=history.test_acc, train_loss=history.train_loss,
                            test_acc_flips=history.test_acc_flips,
                            book_compute_fraction=compute, device=history.device,
                            seconds=time.perf_counter() - started, **beside, **extra)


def moving_averages(net, decays, test_iter, batches_per_epoch):
    """An on_batch for train() that keeps an exponential moving average of net's weights (and
    batch-norm statistics) for each decay and tests each after every epoch; and the dict of
    their test accuracies, {decay: [one per epoch]}. No decays: (None, {})."""
    if not decays:
        return None, {}
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    from d2lresnet.train import evaluate_accuracy
    # The first update copies net's weights, so Xavier init applied by train() is kept.
    averages = {str(d): AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(d),
                                      use_buffers=True) for d in decays}
    accuracy = {decay: [] for decay in averages}

    def on_batch(step, loss, correct, size):
        for average in averages.values():
            average.update_parameters(net)
        if step % batches_per_epoch == 0:
            for decay, average in averages.items():
                accuracy[decay].append(evaluate_accuracy(average.module, test_iter))
    return on_batch, accuracy


def accuracy_at_sides(net, sides, device=None):
    """net's test accuracy with the test images resized to each side, and with the
    predictions at all those sides averaged ("mean"): sizes it did not train at, and a
    test-time augmentation by size (as flips are one by mirroring)."""
    from d2lresnet.data import load_data_fashion_mnist
    from d2lresnet.train import predict

    result, summed = {}, 0
    for side in sides:
        _, test_iter = load_data_fashion_mnist(256, resize=side)
        labels, predictions, probabilities = predict(net, test_iter, device)
        result[str(side)] = (predictions == labels).float().mean().item()
        summed = summed + probabilities
    result["mean"] = (summed.argmax(dim=1) == labels).float().mean().item()
    return result


def sides_of_checkpoints(paths, offsets=(-8, -4, 0, 4, 8)):
    """For each saved ResNet-18 run (a checkpoint of `frontier --checkpoints`): its test
    accuracy at its own side and at sides near it, and with those predictions averaged."""
    from d2lresnet.checkpoint import load_checkpoint
    from d2lresnet.model import resnet18

    results = {}
    for path in paths:
        net = resnet18()
        state = load_checkpoint(path, net)
        side = state["recipe"].get("resize") or 28
        results[str(path)] = dict(trained_at=side, epochs=state["epoch"], **accuracy_at_sides(
            net, [side + offset for offset in offsets if side + offset >= 28]))
        print(path, json.dumps(results[str(path)]), flush=True)
    return results


def format_table(saved, targets=(0.90, 0.92, 0.94)):
    """The recipe runs as a Markdown table: one row per recipe, the seeds' range of final test
    accuracy, and the compute each target took on every seed (-: not reached on every seed)."""
    by_name = {}
    for key, run in saved["runs"].items():
        by_name.setdefault(key.split("/")[0], []).append(run)
    headers = ["recipe", "seeds", "test acc", "with flips", "compute",
               *(f"to {t:.2f}" for t in targets)]
    rows = []
    for name in RECIPES:
        runs = by_name.get(name)
        if not runs:
            continue
        accs = sorted(run["test_acc"][-1] for run in runs)
        flips = sorted(run["test_acc_flips"][-1] for run in runs if run["test_acc_flips"])
        reached = [[compute_to(run, t) for run in runs] for t in targets]
        cells = [f"{max(r):.3f}" if None not in r else "–" for r in reached]
        rows.append([f"`{name}`", str(len(runs)), f"{accs[0]:.3f}–{accs[-1]:.3f}",
                     f"{flips[0]:.3f}–{flips[-1]:.3f}" if flips else "–",
                     f"{runs[0]['book_compute_fraction'][-1]:.3f}", *cells])
    return markdown_table(headers, rows)


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number at least 1, got {value}")
    return value


def _readable_table(path):
    """A saved recipes JSON ({"runs": {...}}), read now: a bad --table is one line."""
    try:
        saved = json.loads(Path(path).read_text())
        if not isinstance(saved, dict) or not isinstance(saved.get("runs"), dict):
            raise ValueError('it holds no "runs" object')
        format_table(saved)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as err:
        why = getattr(err, "strerror", None) or str(err).splitlines()[0]
        raise argparse.ArgumentTypeError(f"{path} is not a saved recipes JSON: {why}") from None
    return saved


def _checkpoint(path):
    from d2lresnet.checkpoint import CheckpointError, read_checkpoint
    try:
        read_checkpoint(path)
    except OSError as err:
        raise argparse.ArgumentTypeError(f"{path}: {err.strerror or err}") from None
    except CheckpointError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return path


def main(argv=None):
    from d2lresnet.cli import _device  # cuda, mps or cpu, and on this machine
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/gpu")
    parser.add_argument("--only", choices=("plateau", "recipes"))
    parser.add_argument("--processes", type=_positive, default=6)
    parser.add_argument("--seeds", type=_positive, default=2, help="seeds per recipe")
    parser.add_argument("--device", help="cuda (default), mps or cpu")
    parser.add_argument("--recipes", nargs="+", choices=RECIPES, default=list(RECIPES))
    parser.add_argument("--table", metavar="JSON", type=_readable_table,
                        help="print a saved recipes JSON as the README's Markdown table, and "
                             "train nothing")
    parser.add_argument("--sides-of", nargs="+", metavar="CHECKPOINT", type=_checkpoint,
                        help="test saved runs at sides near their own, save --out/sides.json, "
                             "and train nothing")
    args = parser.parse_args(argv)
    if args.table:  # trains nothing: no device needed
        print(format_table(args.table))
        return 0
    if args.sides_of:
        results = dict(machine=machine(), runs=sides_of_checkpoints(args.sides_of))
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "sides.json").write_text(json.dumps(results, indent=1))
        return 0
    try:  # before any process starts
        args.device = _device(args.device or "cuda")
    except argparse.ArgumentTypeError as err:
        parser.error(f"argument --device: {err}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from d2lresnet.data import find_fashion_mnist
    from d2lresnet.presets import PRESETS
    find_fashion_mnist()  # unpack the data into the cache once, before the workers read it
    ctx = mp.get_context("spawn")
    for name, size in [("plateau", {}), ("plateau-5000", dict(train_size=5000, epochs=40))]:
        if args.only not in (None, "plateau"):
            break
        plateau = dict(dataclasses.asdict(PRESETS["book"].twins), **size)
        config = {k: v for k, v in plateau.items() if k not in ("depths", "seeds")}
        jobs = [(kind, depth, seed, config, args.device) for depth in plateau["depths"]
                for kind in ("plain", "residual") for seed in plateau["seeds"]]
        started = time.perf_counter()
        results = dict(plain={}, residual={})
        with ctx.Pool(args.processes) as pool:
            for kind, depth, seed, run in pool.imap_unordered(plateau_job, jobs):
                results[kind].setdefault(depth, {})[seed] = run
                print(f"{kind}-{depth} seed {seed}: loss {run['loss'][-1]:.4f} "
                      f"({run['seconds']:.0f} s)", flush=True)
        for kind in ("plain", "residual"):
            results[kind] = {d: [runs[s] for s in sorted(runs)]
                             for d, runs in sorted(results[kind].items())}
        results["config"] = dict(plateau, seconds=time.perf_counter() - started,
                                 machine=machine(), processes=args.processes)
        (out / f"{name}.json").write_text(json.dumps(results, indent=1))
    if args.only in (None, "recipes"):
        jobs = [(name, seed, args.device) for name in args.recipes for seed in range(args.seeds)
                if not (name == "book" and seed)]  # the book's 10 epochs at 96: one seed
        runs = {}
        with ctx.Pool(args.processes) as pool:
            for name, seed, run in pool.imap_unordered(recipe_job, jobs):
                runs[f"{name}/{seed}"] = run
                acc = " ".join(f"{a:.3f}" for a in run["test_acc"])
                print(f"{name} seed {seed}: {acc} at {run['book_compute_fraction'][-1]:.3f} "
                      f"of the book's compute ({run['seconds']:.0f} s)", flush=True)
                (out / "recipes.json").write_text(json.dumps(
                    dict(machine=machine(), runs=runs), indent=1))


if __name__ == "__main__":
    sys.exit(main())
