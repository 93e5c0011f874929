"""python -m d2lresnet {train, shapes, bench, degradation, frontier, versus, ablation, data}: the
notebooks' work from a terminal."""
import argparse
import json
import math
import sys

from . import presets

MAX_INPUT_VALUES = 2**30  # the largest input `shapes` traces: 4 GB of 32-bit floats


def _input_shape(text):
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, e.g. "
                                         f"1,1,224,224; got {text!r}") from None
    if len(shape) != 4 or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"expected 4 positive sizes (batch, channels, height, "
                                         f"width), got {text!r}")
    if math.prod(shape) > MAX_INPUT_VALUES:
        raise argparse.ArgumentTypeError(f"{text} is {math.prod(shape):,} values, more than the "
                                         f"{MAX_INPUT_VALUES:,} (4 GB of floats) a trace may take")
    return shape


def _checkpoint_path(text):
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a file name, e.g. runs/resnet18.pt; got an "
                                         "empty one")
    return text


def _whole_number(text, minimum, maximum=None, why=""):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
        raise argparse.ArgumentTypeError(f"expected a whole number {bounds}{why}, got {text}")
    return value


def _positive_int(text):
    return _whole_number(text, 1)


def _non_negative_int(text):
    return _whole_number(text, 0)


def _batch_size(text):
    return _whole_number(text, 2, why=" (BatchNorm normalises over the batch: one example "
                                      "has nothing to normalise against)")


def _seed(text):
    return _whole_number(text, 0, 2**32 - 1)


# The weights are 32-bit floats: a larger rate cannot even be multiplied into them. (A rate
# far below this still diverges, and training stops with advice; the book uses 0.05.)
MAX_LR = 3.4e38


def _learning_rate(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value <= MAX_LR:
        raise argparse.ArgumentTypeError(f"expected a learning rate above 0 and at most "
                                         f"{MAX_LR:g}, the largest 32-bit float (the book uses "
                                         f"0.05), got {text}")
    return value


def _folder(text):
    from pathlib import Path

    if not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text} is not a folder")
    return text


def _device(text):
    import torch

    try:
        device = torch.device(text)
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cuda", "mps", "cpu"):  # hpu, xla: torch knows
        raise argparse.ArgumentTypeError(f"expected cuda, mps or cpu, got {text!r}")  # them
    if device.type == "cuda" and not torch.cuda.is_available() or \
            device.type == "mps" and not torch.backends.mps.is_available():
        raise argparse.ArgumentTypeError(f"{text} is not available on this machine")
    return text


def _trick_names():
    from .experiments.ablation import TRICKS
    return [name for name, fields in TRICKS.items() if fields]  # all but the base


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m d2lresnet", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train ResNet-18 on Fashion-MNIST",
                                description="Train ResNet-18 on Fashion-MNIST with a preset "
                                            "recipe; any option below overrides the preset.")
    train.add_argument("--preset", choices=list(presets.PRESETS),
                       help="book: the notes' recipe; quick: ~0.92 in minutes on a CPU; "
                            "best: the best in about half an hour on a CPU; smoke: seconds, "
                            "for CI (default: $D2LRESNET_PRESET, else book on a GPU and quick "
                            "on a CPU)")
    train.add_argument("--epochs", type=_positive_int, help="number of epochs")
    train.add_argument("--resize", type=_positive_int, help="image side in pixels (28: none)")
    train.add_argument("--batch-size", type=_batch_size,
                       help="examples per minibatch (at least 2; a lone last example of an "
                            "epoch is left out, as BatchNorm needs two)")
    train.add_argument("--lr", type=_learning_rate, help="learning rate (the peak, with one-cycle)")
    train.add_argument("--limit", type=_batch_size, help="train on the first N examples only")
    train.add_argument("--device", type=_device,
                       help="cuda, mps or cpu (default: the best available)")
    train.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="auto",
                       help="bf16 autocast or plain fp32 (auto: bf16 where the hardware has it)")
    train.add_argument("--checkpoint", type=_checkpoint_path,
                       help="save a checkpoint here after every epoch (an existing file is "
                            "continued with --resume, never overwritten)")
    train.add_argument("--resume", action="store_true",
                       help="continue from --checkpoint where the last run stopped")
    train.add_argument("--seed", type=_seed, default=0,
                       help="seeds init, shuffling, augmentation (0 to 2**32 - 1)")
    train.add_argument("--data", type=_folder,
                       help="a folder holding Fashion-MNIST, read only (else found as "
                            "d2lresnet.data describes)")
    train.add_argument("--trick", action="append", default=[], choices=_trick_names(),
                       help="add one of the speed records' tricks to the preset (repeat for "
                            "more; an option above overrides a trick's learning rate); "
                            "README, 'The speed records' tricks', for what each is worth")
    train.add_argument("--json", action="store_true",
                       help="print one JSON object with the final metrics instead of text")

    shapes = commands.add_parser("shapes", help="print the layer-by-layer output shapes",
                                 description="Trace ResNet-18's output shapes as the notes do.")
    shapes.add_argument("--input", type=_input_shape, default=(1, 1, 224, 224),
                        help="batch,channels,height,width (default 1,1,224,224)")

    bench = commands.add_parser("bench", help="the book's pipeline against ours, in one run",
                                description="Time training steps of the book's input pipeline "
                                            "and ours on the same network and batch.")
    bench.add_argument("--resize", type=_positive_int,
                       help="image side (default 96; with --compile: 28, 48 and 96)")
    bench.add_argument("--batch-size", type=_batch_size, default=256)
    bench.add_argument("--steps", type=_positive_int, default=10,
                       help="timed steps per pipeline (default 10)")
    bench.add_argument("--warmup", type=_non_negative_int,
                       help="untimed steps first (default 2; not with --compile, whose first "
                            "step is the compile and is timed as such)")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--compile", action="store_true",
                       help="instead: our step eager against torch.compile at 28, 48 and 96 px "
                            "or --resize (--steps steps each; compiling takes minutes on a CPU)")

    degradation = commands.add_parser(
        "degradation", help="plain against residual networks as they get deeper",
        description="Train plain and residual 6n+2-layer twins on Fashion-MNIST with the same "
                    "recipe; save the training-error figure and its numbers (.json beside it).")
    degradation.add_argument("--preset", choices=list(presets.PRESETS),
                             help="run length: smoke takes seconds, quick a few minutes on a "
                                  "CPU, book the full run of notebooks/figures (default: "
                                  "$D2LRESNET_PRESET, else book on a GPU and quick on a CPU)")
    degradation.add_argument("--depths", type=_positive_int, nargs="+",
                             help="network depths, each 6n+2 (8, 14, 20, 26, ...)")
    degradation.add_argument("--epochs", type=_positive_int, help="epochs per network")
    degradation.add_argument("--train-size", type=_batch_size,
                             help="training images (a random subset)")
    degradation.add_argument("--out", default="runs/degradation.png",
                             help="the figure (PNG); the numbers go beside it as .json "
                                  "(default runs/degradation.png)")
    degradation.add_argument("--data", type=_folder, help="a folder holding Fashion-MNIST")

    frontier = commands.add_parser(
        "frontier", help="time-to-accuracy of the presets on this machine",
        description="Train each preset as `train --preset` does and record its test accuracy "
                    "and wall time after every epoch; save the figure, its numbers (.json "
                    "beside it, other presets' runs kept) and print a table.")
    frontier.add_argument("--presets", nargs="+", choices=list(presets.PRESETS),
                          default=["quick", "best", "book"],
                          help="presets to measure, in this order (default: quick best book)")
    frontier.add_argument("--out", default="runs/frontier.png",
                          help="the figure (PNG); the numbers go beside it as .json "
                               "(default runs/frontier.png)")
    frontier.add_argument("--device", type=_device,
                          help="cuda, mps or cpu (default: the best available)")
    frontier.add_argument("--data", type=_folder, help="a folder holding Fashion-MNIST")
    frontier.add_argument("--checkpoints", metavar="FOLDER",
                          help="save each preset's run to FOLDER/<preset>.pt after every epoch "
                               "and resume from it when rerun")

    versus = commands.add_parser(
        "versus", help="a plain CNN against ResNet-18 under one recipe",
        description="Train fastbook's simple CNN and ResNet-18 with the same preset, seed and "
                    "data order; save the test-accuracy figure and its numbers (.json beside "
                    "it).")
    versus.add_argument("--preset", choices=list(presets.PRESETS),
                        help="the recipe both nets train with (default: $D2LRESNET_PRESET, "
                             "else book on a GPU and quick on a CPU)")
    versus.add_argument("--resize", type=_positive_int, help="image side in pixels (28: none)")
    versus.add_argument("--epochs", type=_positive_int, help="epochs per network")
    versus.add_argument("--out", default="runs/versus.png",
                        help="the figure (PNG); the numbers go beside it as .json "
                             "(default runs/versus.png)")
    versus.add_argument("--device", type=_device,
                        help="cuda, mps or cpu (default: the best available)")
    versus.add_argument("--data", type=_folder, help="a folder holding Fashion-MNIST")

    from .experiments.ablation import BUDGETS, TRICKS
    ablation = commands.add_parser(
        "ablation", help="the speed records' tricks, one at a time, on several seeds",
        description="Train quick at about 1/20 (or --budget 1/10) of the book's compute with "
                    "each trick in turn, for each seed not yet saved in --out, saving after "
                    "every run; --table prints the table from --out and trains nothing.")
    ablation.add_argument("--tricks", nargs="+", choices=list(TRICKS), default=list(TRICKS),
                          help="tricks to train (default: all, base first)")
    ablation.add_argument("--seeds", nargs="+", type=_seed,
                          default=[0, 1, 2], help="seeds (default: 0 1 2)")
    ablation.add_argument("--budget", choices=list(BUDGETS), default="1/20",
                          help="the base recipe: quick with the Xavier stem, shrunk to about 1/20 "
                               "(32x32, 4 epochs, batch 128) or 1/10 (40x40) of the book's "
                               "compute; 1/20+whiten and 1/10+whiten: the same with quick's "
                               "whitened stem, to stack the others on it")
    ablation.add_argument("--out", help="the saved runs (default notebooks/figures/"
                                        "ablation.json at 1/20, ablation_tenth.json at 1/10, "
                                        "ablation_whitened.json at 1/20+whiten, "
                                        "ablation_tenth_whitened.json at 1/10+whiten)")
    ablation.add_argument("--processes", type=lambda t: _whole_number(t, 1, 64), default=1,
                          help="runs at a time, one thread each (default 1)")
    ablation.add_argument("--table", action="store_true",
                          help="print the Markdown table of --out; train nothing")
    ablation.add_argument("--data", type=_folder, help="a folder holding Fashion-MNIST")

    commands.add_parser("data", help="find (or fetch) Fashion-MNIST and say where it is")
    return parser


def run_train(args):
    from .checkpoint import check_new_or_resumed, release_lock
    from .experiments.runs import measure
    from .train import History, TrainingDiverged

    from .experiments.ablation import TRICKS

    overrides = {key: value for name in args.trick for key, value in TRICKS[name].items()}
    overrides.update({key: value for key, value in [
        ("num_epochs", args.epochs), ("resize", args.resize), ("batch_size", args.batch_size),
        ("lr", args.lr), ("limit", args.limit)] if value is not None})
    preset = presets.get_preset(args.preset, **overrides)
    check_new_or_resumed(args.checkpoint, args.resume)  # before the data is read
    if not args.json:  # what this run trains with: the preset's text, then what was changed
        changed = [f"{key.replace('num_', '')} {value}" for key, value in overrides.items()
                   if getattr(presets.PRESETS[preset.name], key) != value]
        changed += [f"seed {args.seed}"] if args.seed else []
        print(f"preset {preset.name}: {preset.about}"
              + (f"; changed here: {', '.join(changed)}" if changed else ""))
    try:
        run = measure(preset.name, args.data, args.seed, args.device, not args.json,
                      checkpoint=args.checkpoint, resume=args.resume,
                      precision=args.precision, **overrides)
    except TrainingDiverged as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        if args.checkpoint:
            release_lock(args.checkpoint)  # however the run ended, the file is free again
    history = History(**{f: run[f] for f in History.__dataclass_fields__})
    if not run["test_acc"]:
        return 130
    if args.json:  # the run's record, as frontier saves it, and the speed figures
        print(json.dumps({**run, "examples_per_sec": history.examples_per_sec,
                          "compute_examples_per_sec": history.compute_examples_per_sec}))
    else:
        print(history.summary())
        if run["test_acc_flips"]:
            print(f"test acc with test-time flips {run['test_acc_flips'][-1]:.3f}")
        print(f"wall time {run['wall_seconds'][-1]:.0f} s (data loading and evaluation "
              f"included)")
    return 130 if run["interrupted"] else 0


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "train" and args.resume and not args.checkpoint:
        parser.error("--resume needs --checkpoint: the file to resume from")
    try:
        if args.command == "train":
            return run_train(args)
        if args.command == "shapes":
            import torch

            from .model import resnet18
            from .shapes import print_trace
            with torch.device("meta"):  # shapes only: 10**6 input channels would otherwise
                net = resnet18(in_channels=args.input[1])  # allocate 12.5 GB of weights
            print_trace(net, args.input)
        elif args.command == "bench" and args.compile:
            from .experiments.bench import compiled_against_eager, format_compiled
            if args.warmup is not None:
                raise ValueError("--warmup does not apply to --compile: the first step of each "
                                 "is the compile, timed as such, and the median of the rest "
                                 "is the steady speed")
            rows = compiled_against_eager((args.resize,) if args.resize else (28, 48, 96),
                                          batch_size=args.batch_size, steps=args.steps)
            print(json.dumps(rows) if args.json else format_compiled(rows))
        elif args.command == "bench":
            from .experiments.bench import format_bench, run_bench
            result = run_bench(args.resize or 96, args.batch_size, args.steps,
                               2 if args.warmup is None else args.warmup)
            print(json.dumps(result) if args.json else format_bench(result))
        elif args.command == "degradation":
            from .experiments.degradation import run
            run(args.preset, args.out, args.data, depths=args.depths, epochs=args.epochs,
                train_size=args.train_size)
        elif args.command == "frontier":
            from .experiments.frontier import run
            run(args.presets, args.out, args.data, args.device, args.checkpoints)
        elif args.command == "versus":
            from .experiments.versus import run
            overrides = {key: value for key, value in [
                ("resize", args.resize), ("num_epochs", args.epochs)] if value is not None}
            run(args.preset, args.out, args.data, args.device, **overrides)
        elif args.command == "ablation":
            from .experiments import ablation
            base, out = ablation.BUDGETS[args.budget], args.out or ablation.SAVED[args.budget]
            if args.table:
                print(ablation.format_table(ablation.load(out, missing_ok=False, base=base)))
            else:
                ablation.run(args.tricks, args.seeds, out, args.data, args.processes, base)
        elif args.command == "data":
            from .data import find_fashion_mnist
            print(f"Fashion-MNIST is ready in {find_fashion_mnist()}")
    except (ValueError, RuntimeError, OSError) as err:
        # One line: torch's errors may go on with C++ frames a user cannot act on.
        lines = str(err).strip().splitlines() or [type(err).__name__]
        print(f"error: {lines[0]}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # outside training (which handles its own): loading, tracing
        print("interrupted", file=sys.stderr)
        return 130
    return 0
