"""Notebook 05 (training): the saved run it reads in class or under `smoke`, and the notebooks
clean up after themselves.

The saved run (notebooks/figures/saved_quick.json, made by tools/save_predictions.py) is a full
`quick` run with its network's answers on the test set: they must be that run's answers, or the
confusion matrix and the mistakes shown under its name would belong to another network.
Every temporary file or folder a notebook makes is a `with` block's, deleted when the block
ends (here the code is read; no notebook is run a second time).
"""
import ast
from pathlib import Path

import jupytext
import pytest
import torch

from d2lresnet.data import load_fashion_mnist
from d2lresnet.experiments.runs import load_runs
from d2lresnet.model import resnet18
from d2lresnet.presets import PRESETS, Preset
from tools import save_predictions

SAVED = Path(__file__).resolve().parent.parent / "notebooks" / "figures" / "saved_quick.json"


def test_the_saved_run_is_a_full_run_of_todays_quick_recipe():
    run = load_runs(SAVED, missing_ok=False)["quick"]
    assert Preset(**run["recipe"]) == PRESETS["quick"]
    assert run["epochs"] == len(run["test_acc"]) == PRESETS["quick"].num_epochs
    assert run["examples"] == [60_000] * run["epochs"]


def test_the_saved_answers_are_the_saved_runs():
    run = load_runs(SAVED, missing_ok=False)["quick"]
    _, labels = load_fashion_mnist(train=False)
    predictions = torch.tensor([int(answer) for answer in run["test_predictions"]])
    confidence = torch.tensor(run["test_confidence"])
    assert len(predictions) == len(confidence) == len(labels)
    assert abs((predictions == labels).double().mean().item() - run["test_acc"][-1]) <= 0.002
    assert 0.1 <= confidence.min() and confidence.max() <= 1  # the chosen class's probability


def _run_of(accuracy):
    recipe = dict(vars(PRESETS["smoke"]), twins=None)  # 28x28: no resizing
    return {"preset": "smoke", "recipe": recipe, "epochs": 1, "wall_seconds": [1.0],
            "test_acc": [accuracy], "test_acc_flips": [], "train_loss": [1.0],
            "train_acc": [0.5], "device": "cpu", "precision": "fp32", "machine": "here",
            "examples_per_sec": 1.0}


def test_save_predictions_keeps_a_networks_answers_only_for_its_own_run(monkeypatch, fake_data):
    images, labels = fake_data(40)
    monkeypatch.setattr(save_predictions, "load_fashion_mnist", lambda train: (images, labels))
    torch.manual_seed(0)
    net = resnet18().eval()
    with torch.no_grad():
        answers = net(images.unsqueeze(1).float() / 255).argmax(dim=1)
    accuracy = (answers == labels).double().mean().item()
    saved = save_predictions.with_predictions(_run_of(accuracy), net)
    assert saved["test_predictions"] == "".join(str(a) for a in answers.tolist())
    assert len(saved["test_confidence"]) == 40 and "examples_per_sec" not in saved
    with pytest.raises(ValueError, match="not this run's network"):
        save_predictions.with_predictions(_run_of(accuracy + 0.1), net)

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks" / "en").glob("[0-9]*.py"))
SELF_CLEANING = {"TemporaryDirectory", "TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile"}


def temporary_things_left_behind(source):
    """tempfile calls in source that nothing deletes: outside a `with`, or delete=False."""
    tree = ast.parse(source)
    in_with = {id(item.context_expr) for node in ast.walk(tree) if isinstance(node, ast.With)
               for item in node.items}
    left = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "tempfile":
            keeps = any(k.arg in ("delete", "delete_on_close") and
                        isinstance(k.value, ast.Constant) and not k.value.value
                        for k in node.keywords)
            if node.func.attr not in SELF_CLEANING or id(node) not in in_with or keeps:
                left.append(f"line {node.lineno}: tempfile.{node.func.attr}")
    return left


def test_the_check_catches_what_it_names():
    assert temporary_things_left_behind("import tempfile\nd = tempfile.mkdtemp()")
    assert temporary_things_left_behind("with tempfile.NamedTemporaryFile(delete=False): pass")
    assert temporary_things_left_behind("d = tempfile.TemporaryDirectory()")
    assert not temporary_things_left_behind("with tempfile.TemporaryDirectory() as d: pass")


def test_notebook_05_still_saves_in_a_temporary_folder():
    code = "\n".join(c.source for c in jupytext.read(NOTEBOOKS[0].with_name("05_training.py"))
                     .cells if c.cell_type == "code")
    assert "torch.save" in code and "tempfile.TemporaryDirectory()" in code


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_leave_no_temporary_files(notebook):
    for cell in jupytext.read(notebook).cells:
        if cell.cell_type == "code" and "tempfile" in cell.source:
            source = "\n".join(line for line in cell.source.splitlines()
                               if not line.lstrip().startswith(("%", "!")))  # IPython magics
            assert not temporary_things_left_behind(source), (notebook.name, cell.source)
