# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 6.4 Training (训练)
#
# The notes: *train ResNet on the Fashion-MNIST dataset* (在Fashion‐MNIST数据集上训练ResNet).
# You train the ResNet-18 of notebook 03 with their recipe, put your result under theirs, and
# look at the network's mistakes. Run All takes 11 to 20 minutes under the default recipe on a
# 2-core CPU with bf16 (30 or more without), nearly all in one cell, which says how long before
# it starts; a saved run lets you read on without waiting.

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

# %% [markdown]
# ## The recipe
#
# The notes train with `lr, num_epochs, batch_size = 0.05, 10, 256` on images resized to
# 96x96: plain SGD (no momentum, no weight decay) at a constant learning rate, Xavier
# initialisation, cross-entropy loss. Here a *preset* holds the recipe, chosen by the
# environment variable `D2LRESNET_PRESET` before JupyterLab starts:
#
# * `book`: the notes' recipe, computed in bfloat16 on channels-last images where the hardware
#   has them: the same steps, in less precise and faster arithmetic.
# * `quick`: a shorter recipe for a CPU (48x48, 5 epochs; notebook 08 explains it); `best`
#   trains it longer at 64x64.
# * `smoke`: seconds, only to check that the code runs; the cells below then read a saved run.
#
# Without the variable you get `book` on a GPU and `quick` on a CPU.

# %%
import torch

from d2lresnet.presets import get_preset
from d2lresnet.train import try_gpu

preset, device = get_preset(), try_gpu()
preset.name, device

# %% [markdown]
# ## The data: Fashion-MNIST
#
# 70,000 greyscale 28x28 pictures of clothing in 10 classes, 60,000 for training and 10,000
# for testing. As in the book the pixels are in [0, 1], not normalised, and `book` does not
# augment them.

# %%
from d2lresnet.data import get_fashion_mnist_labels, load_data_fashion_mnist
from d2lresnet.drawing.plots import show_images

torch.manual_seed(0)
train_iter, test_iter = load_data_fashion_mnist(preset.batch_size, **preset.data_options())
X, y = next(iter(test_iter))
assert 0 <= X.min() and 0.5 < X.max() <= 1  # ToTensor's range: not normalised, as in the book
show_images(X[:18], 3, 6, titles=get_fashion_mnist_labels(y[:18]));

# %% [markdown]
# ### Why 96x96?
#
# ResNet-18 was built for ImageNet's 224x224 pictures; D2L shrinks them for speed: *to have a
# reasonable training time on Fashion-MNIST, we reduce the input height and width from 224 to
# 96.* For Fashion-MNIST the step goes the other way: its 28x28 pictures are *enlarged*. That
# adds no detail, but it changes what the network can compute. The stem divides the side by 4
# and b3 to b5 halve it again: the cell traces the side of b1 to b5's output maps, and
# compares the arithmetic of one forward pass at 96x96 with 28x28 and with 224x224.

# %%
from d2lresnet import resnet18
from d2lresnet.shapes import count_flops, trace_shapes

counting_net = resnet18()
sides = {side: [row.shape[-1] for row in trace_shapes(counting_net, (1, 1, side, side))[:5]]
         for side in (28, 96)}
flops = {side: count_flops(counting_net, (1, 1, side, side)) for side in (28, 96, 224)}
assert sides[28][-1] == 1 < sides[96][-1]  # at 28x28, b5 outputs a single pixel
sides, round(flops[96] / flops[28], 2), round(flops[96] / flops[224], 2)

# %% [markdown]
# At 28x28 (`smoke`) b5 outputs a single pixel: its second convolution sees that pixel and
# padding. At 96x96 b5 works on 3x3 maps, for 9.65 times the arithmetic; from ImageNet's 224,
# 96 cuts the arithmetic to about a fifth (0.18), D2L's reason.
#
# ## Training
#
# `train` is the book's `train_ch6`: after every epoch the training loss, training accuracy and
# test accuracy, drawn as it goes. Its examples/sec counts the whole loop, data loading
# included; the book times only the compute step, given on the next line. First, how long it
# will take here: the cell times a few steps on a copy of the network.

# %%
from d2lresnet.train import estimate_training

torch.manual_seed(0)
net = resnet18()
history = None  # until the next cell has trained
estimate_training(net, train_iter, test_iter, preset, device);

# %% [markdown]
# **In class, skip the next cell**: the one after it then shows a saved full run of `quick`,
# and the cells below read that run. Train at home.

# %%
from d2lresnet.train import train

history = train(net, train_iter, test_iter, preset.num_epochs, preset.lr, device,
                recipe=preset, live_plot=preset.name != "smoke")
print(history.summary())

# %%
from d2lresnet.drawing.plots import ProgressPlot
from d2lresnet.experiments.runs import load_runs

saved = load_runs("../figures/saved_quick.json")["quick"]
if history is None or preset.name == "smoke":  # skipped, or too short to show anything
    run = saved
    print(i18n.tr("saved_run", preset=run["preset"], epochs=run["epochs"],
                  test_acc=f"{run['test_acc'][-1]:.3f}"))
    ProgressPlot.replay(run)
else:
    run = {**vars(history), "preset": preset.name}

# %% [markdown]
# ## Your result under the notes'
#
# The notes' run (on a CPU) printed `loss 0.011, train acc 0.997, test acc 0.919`; D2L zh 2.0
# printed `loss 0.012, train acc 0.997, test acc 0.893` on a GPU. The cell prints your run (or
# the saved one) under the notes' line, and says how far they compare:
#
# * `book` is the same recipe: its test accuracy must lie in the swing of our `book` run
#   after epoch 4 (below), give or take 0.02, and its loss be of the notes' size.
# * `quick` and `best` are other recipes: label smoothing puts a floor under their loss
#   (notebook 08), so only test accuracy compares; it must reach 0.90.

# %%
book_run = load_runs("../figures/frontier.json")["book"]
low, high = min(book_run["test_acc"][3:]), max(book_run["test_acc"][3:])  # after epoch 4
loss, train_acc, test_acc = (run[k][-1] for k in ("train_loss", "train_acc", "test_acc"))
print("loss 0.011, train acc 0.997, test acc 0.919  ", i18n.tr("result_notes"))
print(f"loss {loss:.3f}, train acc {train_acc:.3f}, test acc {test_acc:.3f}  ",
      i18n.tr("result_saved" if run is saved else "result_ours", preset=run["preset"]))
if run["preset"] == "book":
    print(i18n.tr("compare_book", low=f"{low:.3f}", high=f"{high:.3f}"))
    assert low - 0.02 <= test_acc <= high + 0.02 and loss < 0.05, (run["test_acc"], loss)
else:
    print(i18n.tr("compare_smoothed", preset=run["preset"],
                  smoothing=get_preset(run["preset"]).label_smoothing))
    assert test_acc >= 0.90, run["test_acc"]

# %% [markdown]
# ### The notes' recipe, run to the end
#
# We ran `book`'s ten epochs once on a 2-core CPU without bfloat16. The cell prints its last
# epoch in the notes' format, its test accuracy after every epoch, and replays its curves.

# %%
print("loss {:.3f}, train acc {:.3f}, test acc {:.3f}".format(
    *(book_run[k][-1] for k in ("train_loss", "train_acc", "test_acc"))))
print([round(acc, 3) for acc in book_run["test_acc"]])
ProgressPlot.replay(book_run);

# %% [markdown]
# Beside the notes' line: test accuracy 0.921 against 0.919, loss 0.015 against 0.011, and the
# curves show why neither third decimal means much. Train accuracy rises every epoch. Test
# accuracy climbs for four epochs, then swings by several hundredths: one epoch before the end
# it was 0.845. The learning rate stays at 0.05 to the last step, so SGD never settles, and the
# tenth epoch's test accuracy is one draw from that swing; the notes' 0.919 and D2L's 0.893 are
# two more. That is why `quick` and `best` lower the learning rate almost to zero by the end.
#
# By the end train accuracy (0.996) is well above test accuracy: the network overfits, and the
# recipe has nothing against it (no weight decay, no augmentation, no dropout).
#
# ## What does it confuse?
#
# A confusion matrix counts, for each true class (row), what the network predicted (column);
# the right answers lie on the diagonal. The cell asks your trained network about the 10,000
# test images, or reads the saved run's answers.

# %%
from d2lresnet.data import load_fashion_mnist
from d2lresnet.drawing.plots import plot_confusion_matrix
from d2lresnet.train import predict

test_images, labels = load_fashion_mnist(train=False)
if run is saved:  # its network's answers, saved with the run
    predictions = torch.tensor([int(answer) for answer in saved["test_predictions"]])
    confidence = torch.tensor(saved["test_confidence"])
else:
    _, predictions, probabilities = predict(net, test_iter, precision=history.precision)
    confidence = probabilities.max(dim=1).values
matrix = plot_confusion_matrix(labels, predictions)

# %% [markdown]
# Expect the mistakes among the upper-body garments: shirt, t-shirt, pullover and coat look
# alike at 28x28. The largest count off the diagonal names the pair confused most often; the
# check: both are among these four.

# %%
from d2lresnet.data import CLASS_NAMES, class_names

names = class_names()  # in the notebook's language
off_diagonal = matrix - torch.diag(matrix.diag())
true_class, predicted_class = divmod(off_diagonal.argmax().item(), len(CLASS_NAMES))
assert {CLASS_NAMES[true_class], CLASS_NAMES[predicted_class]} <= {"t-shirt", "pullover",
                                                                      "coat", "shirt"}
names[true_class], names[predicted_class], off_diagonal.max().item()

# %% [markdown]
# The most confidently wrong test images. Above each picture: what the network said and its
# probability; below, after ≠, the true label. Some are ambiguous even to a person; some labels
# look wrong.

# %%
wrong = (predictions != labels).nonzero().flatten()
worst = wrong[confidence[wrong].argsort(descending=True)[:8]]
show_images(test_images[worst], 2, 4, scale=2,  # 8 pictures, 2 rows
            titles=[f"{names[predictions[i]]} {confidence[i]:.2f}\n≠ {names[labels[i]]}"
                    for i in worst]);

# %% [markdown]
# ## Exercises
#
# Replace the `...` in an answer cell and run it, then the check below it: right or wrong,
# with a hint. A solution is folded under each check.

# %%
from d2lresnet import exercises

# %% [markdown]
# **Exercise 1.** How many times does SGD update the weights in the book's recipe (10 epochs,
# minibatches of 256, Fashion-MNIST's 60,000 training images)? Answer with an integer.

# %%
answer_5_1 = ...  # your answer · 你的答案

# %%
exercises.check("05.1", answer_5_1)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
import math

book = get_preset("book")
updates_per_epoch = math.ceil(60_000 / book.batch_size)  # the last minibatch has 96 images
solution_5_1 = book.num_epochs * updates_per_epoch
assert exercises.check("05.1", solution_5_1)

# %% [markdown]
# **Exercise 2.** Which class does the network above (yours, or the saved run's) get right
# least often, as a share of that class's test images? Answer with one class: its name (like
# `"coat"`) or its number, 0 to 9. The check reads the network's answers.

# %%
answer_5_2 = ...  # your answer · 你的答案

# %%
exercises.check("05.2", answer_5_2, labels=labels, predictions=predictions)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
share_right = matrix.diag() / matrix.sum(dim=1)  # each row: one true class's test images
solution_5_2 = CLASS_NAMES[share_right.argmin()]
print(names[share_right.argmin()], f"{share_right.min().item():.2f}")  # in your language
assert exercises.check("05.2", solution_5_2, labels=labels, predictions=predictions)

# %% [markdown]
# ## Going further
#
# **Saving and reloading the trained model.** Save the weights (the `state_dict`), not the
# whole object: a state dict is plain tensors, and `weights_only=True` loads it without running
# any code from the file. The file is those tensors and little else, and the reloaded network
# gives the same answers.

# %%
import tempfile
from pathlib import Path

from d2lresnet import count_parameters

with tempfile.TemporaryDirectory() as folder:  # deleted, file and all, when the block ends
    path = Path(folder) / "resnet18_fashion_mnist.pt"
    torch.save(net.state_dict(), path)
    megabytes = path.stat().st_size / 1e6
    reloaded = resnet18()
    reloaded.load_state_dict(torch.load(path, weights_only=True))
tensor_megabytes = sum(t.numel() * t.element_size() for t in net.state_dict().values()) / 1e6
assert tensor_megabytes <= megabytes < tensor_megabytes + 0.1
_, before, _ = predict(net, test_iter)
_, after, _ = predict(reloaded.to(device), test_iter)
assert torch.equal(after, before)
print(f"{megabytes:.1f} MB, {count_parameters(reloaded):,}")
