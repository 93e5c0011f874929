"""A saved run that notebook 05 reads in class or under `smoke`: the record a full run prints
with `train --json`, and beside it its network's answers on the 10,000 test images (the class
it chose, and its probability), so the confusion matrix and the most confident mistakes can be
shown without training.

    python -m d2lresnet train --preset quick --checkpoint runs/quick.pt --json > runs/quick.json
    python -m tools.save_predictions runs/quick.pt runs/quick.json notebooks/figures/saved_quick.json
"""
import argparse
import json

from d2lresnet.checkpoint import load_checkpoint
from d2lresnet.data import FashionMNISTBatches, load_fashion_mnist
from d2lresnet.experiments.runs import RUN_FIELDS, save_json
from d2lresnet.model import resnet18
from d2lresnet.presets import Preset
from d2lresnet.train import predict


def with_predictions(run, net):
    """run (a record, as `train --json` prints it) with its trained net's test answers:
    test_predictions, one digit per image in the test set's order, and test_confidence, the
    probability of that answer. Refused unless they give the run's own final test accuracy."""
    missing = [f for f in RUN_FIELDS + ("recipe",) if f not in run]
    if missing:
        raise ValueError(f"not a run's record: it lacks {', '.join(missing)}")
    recipe = Preset(**run["recipe"])
    images, labels = load_fashion_mnist(train=False)
    test_iter = FashionMNISTBatches(images, labels, recipe.batch_size, resize=recipe.resize)
    labels, predictions, probabilities = predict(net, test_iter, precision=run["precision"])
    accuracy = (predictions == labels).double().mean().item()
    if abs(accuracy - run["test_acc"][-1]) > 0.002:  # bf16 may move an answer or two
        raise ValueError(f"the network scores {accuracy:.4f}, the run {run['test_acc'][-1]:.4f}:"
                         f" not this run's network")
    speed = {"examples_per_sec", "compute_examples_per_sec"}  # train --json's, not the record's
    return {**{k: v for k, v in run.items() if k not in speed},
            "test_predictions": "".join(str(p) for p in predictions.tolist()),
            "test_confidence": [round(p, 3) for p in probabilities.max(dim=1).values.tolist()]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", help="the checkpoint the run saved after its last epoch")
    parser.add_argument("run", help="the run's record, as `train --json` printed it")
    parser.add_argument("out", help="the JSON to write: {preset: run with its answers}")
    parser.add_argument("--note", help="what the run's times mean, kept as its seconds_note "
                                       "(e.g. that the machine was shared)")
    args = parser.parse_args(argv)
    with open(args.run) as f:
        run = json.load(f)
    if args.note:
        run["seconds_note"] = args.note
    net = resnet18()
    load_checkpoint(args.checkpoint, net)
    save_json(args.out, {run["preset"]: with_predictions(run, net)})


if __name__ == "__main__":
    main()
