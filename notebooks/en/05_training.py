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

# %%
from d2lresnet import i18n
i18n.set_notebook_language()

# %% [markdown]
# # 6.4 Training (训练)
#
# The notes: *train ResNet on the Fashion-MNIST dataset* (在Fashion‐MNIST数据集上训练ResNet).
# We train the ResNet-18 of notebook 03 as they do, put our numbers beside theirs, and look at
# what the network learned.
#
# **How long this takes is up to you.** The recipe comes from a *preset*, chosen by the
# environment variable `D2LRESNET_PRESET` (set it before starting JupyterLab). The CPU times
# depend on the CPU more than on its number of cores. Measured on two 2-core machines:
#
# | preset | what it is for | 2-core CPU with bf16 (AVX-512) | 2-core CPU without bf16 (AVX2) |
# |---|---|---|---|
# | `book` | the notes' recipe exactly | about an hour (one epoch: 362 s) | measured: 10 epochs of 28 min (5 hours), test acc 0.921 |
# | `quick` | the same network, a recipe for CPUs | 757 s, test acc 0.924 | about an hour expected (steps measured: 80 examples/s at 48x48) |
# | `best` | the best result in about half an hour | not measured yet | not measured yet |
# | `smoke` | checks that the code runs (CI sets this) | seconds | seconds |
#
# On a GPU every preset takes minutes. Without the variable you get `book` on a GPU and
# `quick` on a CPU. The same runs are available from a terminal:
# `python -m d2lresnet train --preset quick`, and `python -m d2lresnet frontier` measures them
# all on your machine (see the last section).

# %%
import json
import math
import tempfile
from pathlib import Path

import torch
from IPython.display import Markdown
from torch import nn

from d2lresnet import count_parameters, resnet18
from d2lresnet.data import (CLASS_NAMES, FashionMNISTBatches, class_names,
                            get_fashion_mnist_labels, load_data_fashion_mnist,
                            load_fashion_mnist)
from d2lresnet.drawing.plots import plot_confusion_matrix, show_images
from d2lresnet.presets import PRESETS, get_preset
from d2lresnet.shapes import count_flops, format_trace, trace_shapes
from d2lresnet.train import evaluate_accuracy, predict, train, try_gpu

preset = get_preset()
device = try_gpu()
preset.name, device

# %% [markdown]
# ## Every ingredient of each recipe
#
# The table is read from the preset objects themselves, so it cannot disagree with what runs.
# `resize` is the side the images are resized to (`None`: Fashion-MNIST's own 28);
# `lr` is the learning rate (with `one_cycle`, its peak: the rate ramps up, then anneals,
# batch by batch; without it the rate stays constant); `momentum`, `nesterov` and
# `weight_decay` are the SGD options; `label_smoothing` is explained below; `augment` flips
# and shifts each training image at random; `limit` and `test_limit` keep only the first
# images of each set.
#
# The `book` preset is the notes' line `lr, num_epochs, batch_size = 0.05, 10, 256`, with
# `resize=96` and plain SGD; the assert checks it.

# %%
ingredients = ["resize", "num_epochs", "batch_size", "lr", "one_cycle", "momentum",
               "nesterov", "weight_decay", "label_smoothing", "augment", "progressive",
               "test_flips", "limit", "test_limit"]
table = "| | " + " | ".join(f"`{name}`" for name in PRESETS) + " |\n"
table += "|---" * (len(PRESETS) + 1) + "|\n"
table += "\n".join(f"| `{field}` | " + " | ".join(str(getattr(p, field)) for p in PRESETS.values())
                   + " |" for field in ingredients)
book = PRESETS["book"]
assert (book.lr, book.num_epochs, book.batch_size, book.resize) == (0.05, 10, 256, 96)
assert book.momentum == book.weight_decay == book.label_smoothing == 0
assert not (book.nesterov or book.one_cycle or book.augment or book.limit or book.test_limit)
Markdown(table)

# %% [markdown]
# ## The data: Fashion-MNIST
#
# 70,000 greyscale 28x28 pictures of clothing in 10 classes, 60,000 for training and 10,000
# for testing. The data loader keeps the whole set in memory as bytes and resizes one batch
# at a time, which is what makes a CPU run practical (see `python -m d2lresnet bench`).

# %%
torch.manual_seed(0)
train_iter, test_iter = load_data_fashion_mnist(
    preset.batch_size, resize=preset.resize, augment=preset.augment,
    limit=preset.limit, test_limit=preset.test_limit, progressive=preset.progressive)
X, y = next(iter(test_iter))
side = preset.resize or 28
assert X.shape == (min(preset.batch_size, len(test_iter.labels)), 1, side, side)
assert 0 <= X.min() and 0.5 < X.max() <= 1  # ToTensor's range: no normalisation, as in the book
show_images(X[:18], 3, 6, titles=get_fashion_mnist_labels(y[:18]));

# %% [markdown]
# ### Why 96x96?
#
# ResNet-18 was built for ImageNet's 224x224 pictures. D2L already shrinks them in its
# GoogLeNet section, for speed: *to have a reasonable training time on Fashion-MNIST, we
# reduce the input height and width from 224 to 96. This simplifies the computation.*
#
# Seen from Fashion-MNIST the same step goes the other way: 28x28 pictures are *enlarged*
# to 96x96. That adds no information. Bilinear resizing is a fixed linear map of the 28x28
# numbers, applied to the rows and to the columns ($A X B^\top$ with $A$ and $B$ of size
# 96x28), so a resized picture, seen as a 96x96 matrix, has rank at most 28: its 9,216
# pixels carry the original 784 numbers. Of its 96 singular values, all but the first 28
# are zero (up to rounding); the cell prints the largest of those 68, relative to the first.

# %%
one_picture = FashionMNISTBatches(test_iter.images[:1], test_iter.labels[:1], 1, resize=96)
X96, _ = next(iter(one_picture))
singular_values = torch.linalg.svdvals(X96[0, 0].double())
assert X96.shape[-2:] == (96, 96) and len(singular_values) == 96
assert singular_values[28:].max() < 1e-6 * singular_values[0]
(singular_values[28:].max() / singular_values[0]).item()

# %% [markdown]
# It does cost arithmetic. Counting the floating-point operations of one forward pass at
# each size:

# %%
counting_net = resnet18()
flops = {side: count_flops(counting_net, (1, 1, side, side)) for side in (28, 96, 224)}
cost_28_to_96 = flops[96] / flops[28]
saving_224_to_96 = flops[224] / flops[96]
pixel_ratio = (96 / 28) ** 2
map_sides = {side: [row.shape[-1] for row in trace_shapes(counting_net, (1, 1, side, side))[:5]]
             for side in (28, 96)}
assert 9 < cost_28_to_96 < pixel_ratio
assert map_sides == {28: [7, 7, 4, 2, 1], 96: [24, 24, 12, 6, 3]}
print(f"{cost_28_to_96=:.2f}  {pixel_ratio=:.2f}  {saving_224_to_96=:.2f}")
map_sides

# %% [markdown]
# At 96x96 a picture costs about ten times the arithmetic it would at its own 28x28, a little
# less than the 11.8 times as many pixels: at 28 the feature maps of b1 to b5 are 7, 7, 4, 2
# and 1 pixels wide, and 7 does not halve evenly (it rounds up to 4), so the last three stages
# keep relatively more of their work than at 96 (24, 12, 6, 3). Against ImageNet's 224 the
# same step saves a factor of about five: that is D2L's reason. At 28 the network still runs
# (the `smoke` preset trains at 28), but b5 then sees a single pixel.
#
# ## Training
#
# `train` is the book's `train_ch6`: Xavier initialisation, SGD, cross-entropy, and after
# every epoch the training loss, training accuracy and test accuracy. The plot below redraws
# as it goes. Two differences matter for honesty and speed:
#
# * the examples/sec figure is **end to end** (loading and resizing the data included),
#   while the book times only the compute step (we print that figure too, named as such);
# * on a CPU with bf16 instructions the arithmetic runs in bfloat16 (`torch.autocast`) with
#   `channels_last` memory layout; `precision="fp32"` switches that off.

# %%
torch.manual_seed(0)
net = resnet18()
history = train(net, train_iter, test_iter, preset.num_epochs, preset.lr, device,
                **preset.train_options())
print(history.summary())

# %% [markdown]
# The checks: one entry per epoch, a training loss that went down, and a test accuracy above
# what always answering the test set's most common class would score. A full run must do
# better: 0.90 for `quick`, but only 0.80 for `book`, whose last epoch is one draw from a
# swing of several hundredths (the saved run below ended at 0.921 and stood at 0.845 one
# epoch earlier).

# %%
majority_share = torch.bincount(test_iter.labels).max().item() / len(test_iter.labels)
assert len(history.test_acc) == preset.num_epochs
assert history.train_loss[-1] < history.train_loss[0]
assert history.test_acc[-1] > majority_share, (history.test_acc, majority_share)
trained_at_least = {"book": 0.80, "quick": 0.90}
if preset.name in trained_at_least:
    assert history.test_acc[-1] >= trained_at_least[preset.name], history.test_acc
majority_share

# %% [markdown]
# ## Our result beside the notes' and the book's
#
# The notes' run (10 epochs at 96x96 on a CPU) printed
#
# ```
# loss 0.011, train acc 0.997, test acc 0.919
# 52.9 examples/sec on cpu
# ```
#
# and D2L zh 2.0 printed `loss 0.012, train acc 0.997, test acc 0.893` at 5032.7
# examples/sec on a GPU (both figures time the compute step only):
#
# | run | loss | train acc | test acc | speed (compute step only) |
# |---|---|---|---|---|
# | the notes (CPU) | 0.011 | 0.997 | 0.919 | 52.9 examples/sec |
# | D2L zh 2.0 (GPU) | 0.012 | 0.997 | 0.893 | 5032.7 examples/sec |
#
# The `book` preset is that recipe. We ran its ten epochs once on a 2-core CPU without bf16
# (AVX2), with `python -m d2lresnet frontier --presets book --checkpoints runs/
# --out notebooks/figures/frontier.png` (`--checkpoints` saves every epoch, so a run of hours
# can stop and resume). It saved the run, epoch by epoch, in `notebooks/figures/frontier.json`.
# The cell reads it back, checks that it used today's `book` recipe, prints its last epoch in
# the notes' format, and draws the figure `train` draws as it goes.

# %%
import statistics

from d2lresnet.experiments.frontier import load_runs
from d2lresnet.drawing.plots import ProgressPlot
from d2lresnet.presets import Preset
from d2lresnet.experiments.versus import median_epoch_seconds

book_run = load_runs("../figures/frontier.json")["book"]
assert Preset(**book_run["recipe"]) == book  # the saved run used today's `book` recipe
assert book_run["epochs"] == len(book_run["test_acc"]) == book.num_epochs
loss, train_acc, test_acc = (book_run[k][-1] for k in ("train_loss", "train_acc", "test_acc"))
rate = statistics.median(n / s for n, s in zip(book_run["examples"], book_run["compute_seconds"]))
epoch_minutes = median_epoch_seconds(book_run) / 60
print(f"loss {loss:.3f}, train acc {train_acc:.3f}, test acc {test_acc:.3f}")
print(f"{rate:.1f} examples/sec on {book_run['device']} (compute step, median epoch)")
print(f"{epoch_minutes:.0f} minutes an epoch (median), {book_run['machine']}")
ProgressPlot.replay(book_run);

# %% [markdown]
# The last line agrees with the notes' almost to the digit: test accuracy 0.921 against their
# 0.919, loss 0.015 against 0.011. Do not read much into the third decimal; the figure shows
# why. Train accuracy rises every epoch. Test accuracy climbs for four epochs and then swings
# by several hundredths from one epoch to the next: one epoch before the end it was 0.845.
# The learning rate stays at 0.05 to the last step, so SGD never settles, and the tenth
# epoch's test accuracy is one draw from that swing. The notes' 0.919 and D2L's 0.893 are two
# more draws of the same recipe. That is why the `quick` and `best` presets lower the
# learning rate almost to zero by their last epoch (a one-cycle schedule).
#
# At the end of the first epoch, test accuracy is *above* train accuracy: the train figure averages
# over an epoch in which the network was still learning. By the end train accuracy is well
# above test accuracy. That gap is overfitting: nothing in the book's recipe regularises.
# This CPU computes 38 examples/sec against the notes' 52.9 (both the compute step only),
# so an epoch takes about 28 minutes here. The cell checks these sentences against the run.

# %%
train_accs, test_accs = book_run["train_acc"], book_run["test_acc"]
assert abs(test_acc - 0.919) < 0.005 and abs(loss - 0.011) < 0.005  # the notes' last line
assert all(a < b for a, b in zip(train_accs, train_accs[1:]))  # train acc: up every epoch
assert all(a < b for a, b in zip(test_accs[:3], test_accs[1:4]))  # test acc: up for four
swing = max(test_accs[3:]) - min(test_accs[3:])
assert swing > 0.05 and test_accs[-2] < 0.85, test_accs  # then it swings
assert PRESETS["quick"].one_cycle and PRESETS["best"].one_cycle and not book.one_cycle
assert test_accs[0] > train_accs[0] and train_acc - test_acc > 0.05  # overfitting at the end
assert round(rate) == 38 and round(epoch_minutes) == 28
print(f"test acc swings by {swing:.3f} after epoch 4; "
      f"train acc minus test acc: {train_accs[0] - test_accs[0]:.3f} after epoch 1, "
      f"{train_acc - test_acc:.3f} after epoch {book_run['epochs']}")

# %% [markdown]
# Your own run's two lines are printed under the training cell above. For scale: the
# Fashion-MNIST benchmark lists 0.949 for a ResNet-18 trained with augmentation, and 0.835
# for humans.
#
# ### Why the `quick` preset's loss stays above 0.5
#
# A `quick` run ends with a loss far above the notes' 0.011, although its test accuracy
# (0.924 measured) is as good. The reason is label smoothing. With smoothing $\varepsilon$ and $K$ classes, the
# target for an image of class $y$ is no longer the one-hot vector but
# $q = (1-\varepsilon)\,\mathrm{onehot}(y) + \varepsilon/K$ on every class. Cross-entropy
# splits as $H(q, p) = H(q) + \mathrm{KL}(q\,\|\,p) \ge H(q)$: even a network that predicts
# $q$ exactly pays the entropy of the target. That entropy is a floor under the loss. The cell
# computes it for each preset, checks it against PyTorch's own loss at its minimum (logits
# $\log q$), and checks that this run's loss lies above its preset's floor.

# %%
def smoothed_target(smoothing, num_classes, true_class=0):
    target = torch.full((num_classes,), smoothing / num_classes)
    target[true_class] += 1 - smoothing
    return target


def loss_floor(smoothing, num_classes):
    """The entropy of the smoothed target: the least cross-entropy any prediction reaches."""
    return torch.special.entr(smoothed_target(smoothing, num_classes)).sum().item()


num_classes = len(CLASS_NAMES)
floors = {p.name: loss_floor(p.label_smoothing, num_classes) for p in PRESETS.values()}
for p in PRESETS.values():
    loss_fn = nn.CrossEntropyLoss(label_smoothing=p.label_smoothing)
    best_logits = smoothed_target(p.label_smoothing, num_classes).clamp_min(1e-12).log()
    at_minimum = loss_fn(best_logits[None], torch.tensor([0])).item()
    assert math.isclose(at_minimum, floors[p.name], abs_tol=1e-5), (p.name, at_minimum)
floor = floors[preset.name]
assert history.train_loss[-1] > floor
print(f"{history.train_loss[-1] - floor = :.3f}")
floors

# %% [markdown]
# For `quick` ($\varepsilon = 0.1$, 10 classes) the target puts 0.91 on the true class and
# 0.01 on each of the nine others; its entropy, $-0.91 \ln 0.91 - 9 \times 0.01 \ln 0.01$, is
# the 0.50 above. Of a `quick` run's final loss, 0.50 is floor; only the printed difference,
# loss minus floor, is error the network could still remove. The
# `book` recipe has no smoothing, so its floor is 0 and the notes' loss can fall to 0.011.
#
# ### Train accuracy, with and without augmentation
#
# The train accuracy that `train` prints is measured during the last epoch, on the images as
# the network saw them: flipped and shifted when the preset augments (`quick` does), with
# the weights still changing and batch normalization in training mode. The same finished
# network in evaluation mode, on training images as they are, gives the other reading. We
# measure it on as many training images as the test set holds (10,000; a few seconds).

# %%
n_plain = min(len(test_iter.labels), len(train_iter.labels))
plain_train_iter = FashionMNISTBatches(train_iter.images[:n_plain], train_iter.labels[:n_plain],
                                       preset.batch_size, resize=preset.resize)
plain_train_acc = evaluate_accuracy(net, plain_train_iter, precision=history.precision)
print(f"{preset.augment = }\n{history.train_acc[-1] = :.3f}\n{plain_train_acc = :.3f}\n"
      f"{history.test_acc[-1] = :.3f}")

# %% [markdown]
# ## What does it confuse?
#
# A confusion matrix counts, for each true class (row), what the network predicted (column).
# The diagonal holds the correct answers. The checks read the test labels from disk a second
# time, apart from the data iterator: each row must add up to the number of test images of
# its class (1,000 each in the full test set), and the diagonal must hold as many correct
# answers as `train` counted in its last test.

# %%
labels, predictions, probabilities = predict(net, test_iter, precision=history.precision)
matrix = plot_confusion_matrix(labels, predictions)
_, labels_on_disk = load_fashion_mnist(train=False)
labels_on_disk = labels_on_disk[:preset.test_limit]
class_counts = torch.bincount(labels_on_disk, minlength=num_classes)
assert torch.equal(labels, labels_on_disk)  # predict kept the test set's order
assert torch.equal(matrix.sum(dim=1), class_counts)
if preset.test_limit is None:
    assert class_counts.tolist() == [1000] * num_classes
assert matrix.trace().item() == round(history.test_acc[-1] * len(labels))

# %% [markdown]
# Expect the mistakes among the upper-body garments: shirt, t-shirt, pullover and coat look
# alike at 28x28. The largest count off the diagonal names the pair confused most often
# (for a well-trained network, the assert checks that it is one of these four).

# %%
off_diagonal = matrix - torch.diag(matrix.diag())
true_class, predicted_class = divmod(off_diagonal.argmax().item(), num_classes)
if preset.name in ("book", "quick"):
    upper_body = {"t-shirt", "pullover", "coat", "shirt"}
    assert {CLASS_NAMES[true_class], CLASS_NAMES[predicted_class]} <= upper_body
names = class_names()  # in the notebook's language
names[true_class], names[predicted_class], off_diagonal.max().item()

# %% [markdown]
# The most confidently wrong test images: the network was sure, and wrong. Above each
# picture: what the network said and its probability; below that, after ≠, the true label.
# Some are ambiguous even to a person; a few labels in Fashion-MNIST are simply mistakes.
# The check runs the network again on just these pictures: it must say the same, which
# shows that the pictures drawn are the ones it was judged on.

# %%
wrong = (predictions != labels).nonzero().flatten()
confidence = probabilities.max(dim=1).values[wrong]
worst = wrong[confidence.argsort(descending=True)[:8]]
again = FashionMNISTBatches(test_iter.images[worst], test_iter.labels[worst], len(worst),
                            resize=preset.resize)
_, again_predictions, again_probabilities = predict(net, again, precision=history.precision)
assert torch.equal(again_predictions, predictions[worst])
assert torch.allclose(again_probabilities, probabilities[worst], atol=0.02)
show_images(test_iter.images[worst], 2, 4, scale=2,  # 8 pictures, 2 rows
            titles=[f"{names[predictions[i]]} {probabilities[i].max():.2f}\n"
                    f"≠ {names[labels[i]]}" for i in worst]);

# %% [markdown]
# ## Saving and reloading the trained model
#
# Save the weights (the `state_dict`), not the whole object: a state dict is plain tensors,
# and `weights_only=True` loads it without running any code from the file. The file is
# those tensors and little else; the reloaded network makes the same predictions on every
# test image. The cell prints the file's size in MB and the number of parameters.

# %%
with tempfile.TemporaryDirectory() as folder:  # deleted, file and all, when the block ends
    path = Path(folder) / "resnet18_fashion_mnist.pt"
    torch.save(net.state_dict(), path)
    megabytes = path.stat().st_size / 1e6
    reloaded = resnet18()
    reloaded.load_state_dict(torch.load(path, weights_only=True))
assert not Path(folder).exists()  # nothing left behind on disk
tensor_megabytes = sum(t.numel() * t.element_size() for t in net.state_dict().values()) / 1e6
assert tensor_megabytes <= megabytes < tensor_megabytes + 0.1
_, reloaded_predictions, _ = predict(reloaded.to(device), test_iter, precision=history.precision)
assert torch.equal(reloaded_predictions, predictions)
print(f"{megabytes:.1f} MB, {count_parameters(reloaded):,}")

# %% [markdown]
# ## ResNet-18 against a plain CNN
#
# fastbook (chapter 14) first trains a simple CNN, stride-2 convolutions that each halve the
# picture, then global average pooling, and then a ResNet with the same training; the ResNet
# does better. We do the same on Fashion-MNIST. `plain_cnn` is fastbook's `get_model` for
# one-channel images: five stride-2 3x3 conv-BN-ReLU layers with 16 to 256 channels, and the
# head of our ResNet-18. No blocks, no shortcuts. The cell traces it at 28x28, then prints its
# parameters and how many times as many parameters and as much arithmetic (per 28x28 image)
# ResNet-18 has.

# %%
from d2lresnet.model import plain_cnn

cnn = plain_cnn()
print(format_trace(trace_shapes(cnn, (1, 1, 28, 28))))
sides = [row.shape[-1] for row in trace_shapes(cnn, (1, 1, 28, 28))[:5]]
assert sides == [14, 7, 4, 2, 1]  # each layer halves the side (rounding up): 28 -> 1
param_ratio = count_parameters(resnet18()) / count_parameters(cnn)
flop_ratio = (count_flops(resnet18(), (1, 1, 28, 28))
              / count_flops(cnn, (1, 1, 28, 28)))
assert param_ratio > 20 and flop_ratio > 20
count_parameters(cnn), round(param_ratio), round(flop_ratio)

# %% [markdown]
# Both networks were trained with the `quick` recipe at 28x28 (the image size is the only
# change, to keep the ResNet-18 run short on a CPU), with the same seed and the same order
# of minibatches, by
# `python -m d2lresnet versus --preset quick --resize 28 --out notebooks/figures/versus.png`.
# The cell reads the saved run, checks that it is of today's two networks under one recipe,
# and prints the recipe, each network's final test accuracy, and how many times as long an
# epoch of ResNet-18 took (the median epoch: another job shared the CPU during two of
# ResNet-18's epochs). The figure is the test accuracy after each epoch.

# %%
from d2lresnet.experiments.versus import plot_versus

compared = json.loads(Path("../figures/versus.json").read_text())
nets = compared["nets"]
assert nets["plain_cnn"]["params"] == count_parameters(cnn)
assert nets["resnet18"]["params"] == count_parameters(resnet18())
assert nets["plain_cnn"]["about"] == nets["resnet18"]["about"]  # one recipe for both
final = {name: run["test_acc"][-1] for name, run in nets.items()}
slower = median_epoch_seconds(nets["resnet18"]) / median_epoch_seconds(nets["plain_cnn"])
assert abs(final["resnet18"] - final["plain_cnn"]) < 0.01  # level after five epochs
assert slower > 10
print(compared["recipe"])
print({name: round(acc, 3) for name, acc in final.items()}, round(slower))
plot_versus(compared);

# %% [markdown]
# After five epochs the two are level: ResNet-18 ends a fraction of a point ahead, and each
# of its epochs takes tens of times as long. That is not fastbook's result, and the
# difference lies in the problem, not in the code. fastbook compares on Imagenette, colour
# photos of 128 pixels, where a deeper network has more to find; Fashion-MNIST at 28x28 is
# small and easy, and five plain layers already fit it about as well as this short recipe
# allows. Two more things stand between this comparison and the shortcut itself:
#
# * ResNet-18's stem was made for ImageNet's 224-pixel photos. On a 28x28 image it leaves a
#   7x7 map before the first residual block (the cell below counts it; notebook 04 traces it
#   layer by layer), which is why the notes enlarge the images to 96x96, and `quick` to 48x48.
# * The networks differ in depth and size as well as in shortcuts.
#
# What the shortcut alone does is the subject of notebook 06: plain and residual twins whose
# layers are identical, where the plain network gets worse with depth and the residual one
# does not.

# %%
stem_side = trace_shapes(resnet18(), (1, 1, 28, 28))[0].shape[-1]
assert stem_side == 7  # 28 -> 14 (7x7 conv, stride 2) -> 7 (max-pool, stride 2)
stem_side

# %% [markdown]
# ## How long each recipe takes: accuracy against time
#
# A recipe is a trade: more epochs and larger images cost time and buy accuracy. The figure
# puts every measured preset on one pair of axes: test accuracy after each epoch (a dot)
# against the wall time since the run started, with reading the data and every evaluation
# included, on a log scale. A hollow ring is the last epoch's accuracy with test-time flips
# (each test image averaged with its mirror): a second number, never mixed into the first.
# The dashed line is the notes' 0.919.
#
# The numbers come from `python -m d2lresnet frontier`, which trains each preset exactly as
# `train --preset` does. As this notebook ships, the saved file holds one run: the `book` run
# above, whose swing after epoch 4 is plain to see here. The table says on which machine; to
# measure yours (and to add the other presets), run
# `python -m d2lresnet frontier --presets quick --out notebooks/figures/frontier.png` (the
# other presets' runs in the file are kept).

# %%
from d2lresnet.experiments.frontier import format_table, plot_frontier

runs = load_runs("../figures/frontier.json")
for run in runs.values():
    times = run["wall_seconds"]
    assert len(times) == len(run["test_acc"]) == run["epochs"], run["preset"]
    assert all(a < b for a, b in zip(times, times[1:])), run["preset"]  # time only runs forward
if runs:
    plot_frontier(runs)
Markdown(format_table(runs))

# %% [markdown]
# ## Summary
#
# * The notes train ResNet-18 on Fashion-MNIST with the book's recipe: 96x96 images, 10
#   epochs, plain SGD with learning rate 0.05, batch size 256. They reach
#   `loss 0.011, train acc 0.997, test acc 0.919`. Our run of that recipe (five hours on a
#   2-core CPU) ended at `loss 0.015, train acc 0.996, test acc 0.921`, but its test accuracy
#   swung from 0.845 to 0.921 between the last two epochs: with a learning rate that never
#   decays, the last epoch's figure is partly luck.
# * 96x96 is D2L's compromise for speed, down from ImageNet's 224. Enlarging 28x28 pictures
#   adds no information (the resized picture has rank at most 28) and costs about ten times
#   the arithmetic (9.65 times, counted).
# * A short CPU recipe (`quick`) reaches a similar test accuracy with smaller images, a
#   one-cycle schedule, momentum, label smoothing and augmentation. Its loss cannot fall
#   below the entropy of the smoothed target (0.50 for smoothing 0.1), and its printed train
#   accuracy is measured on augmented images.
# * The confusion matrix shows where a trained network's errors are: mostly among
#   look-alike upper-body garments (shirt, t-shirt, pullover, coat).
# * Save the `state_dict` and load it with `weights_only=True`.
# * Under one recipe at 28x28, fastbook's five-layer plain CNN is level with ResNet-18 after
#   five epochs, at a small fraction of the time: on an easy problem depth buys little.
#   Notebook 06 shows where it matters, with twins that differ only in the shortcut.
