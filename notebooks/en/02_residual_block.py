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
# # 6.2 Residual blocks (残差块)
#
# Call the block's input $\mathbf{x}$ and the ideal mapping we would like it to learn
# $f(\mathbf{x})$ (the input of the activation function at the top of the figure). The part
# inside the dashed box on the left, a regular block, has to fit the mapping $f(\mathbf{x})$
# directly; the part inside the dashed box on the right has to fit the **residual mapping**
# $f(\mathbf{x}) - \mathbf{x}$, and the input is added back before the last activation. Both
# panels are drawn from the layers of the module's `Residual(3, 3)`. In evaluation mode, where
# BatchNorm uses its running statistics, conv and BatchNorm are both affine maps, so together
# they form one "weight layer" of the notes' figure. (In training mode BatchNorm normalises
# with the statistics of the current batch, so what it does to one example depends on the
# others.) The cell after the figure checks both.

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

# %%
import inspect

import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.nn import functional as F
from torchvision.models.resnet import BasicBlock

from d2lresnet import Residual
from d2lresnet.drawing.diagrams import draw_blocks, draw_regular_vs_residual, drawn

block = Residual(3, 3)
regular_vs_residual = draw_regular_vs_residual(block)
weight_layers = [box.modules for box in drawn(regular_vs_residual.axes[1]) if box.modules]
assert weight_layers == [(block.conv1, block.bn1), (block.conv2, block.bn2)]
regular_vs_residual

# %%
lower_weight_layer = nn.Sequential(*weight_layers[0])  # conv1, then bn1
X1, X2 = torch.rand(2, 4, 3, 6, 6)


def is_affine(layer):
    """g(x1 + x2) - g(0) == (g(x1) - g(0)) + (g(x2) - g(0)) holds for every affine map g."""
    with torch.no_grad():
        g0 = layer(torch.zeros_like(X1))
        return torch.allclose(layer(X1 + X2) - g0, layer(X1) - g0 + layer(X2) - g0, atol=1e-5)


affine = {mode: is_affine(lower_weight_layer.train(mode == "train"))
          for mode in ("eval", "train")}
print(affine)
assert affine == {"eval": True, "train": False}

# %% [markdown]
# ## The identity mapping (恒等映射)
#
# The residual mapping is often easier to optimise. Take the identity as the ideal mapping
# $f(\mathbf{x})$. In the notes' words: we only need to set the weight and bias parameters of
# the upper weighted operation (e.g. affine) in the right dashed box to 0, and $f(\mathbf{x})$
# is the identity mapping (只需将右图虚线框内上方的加权运算（如仿射）的权重和偏置参数设成0，
# 那么$f(\mathbf{x})$即为恒等映射).
#
# Let us do exactly that, on the very block the figure was drawn from. To make it a fair test,
# first move all its parameters away from their initial values, as training would (in a fresh
# block BatchNorm's shift $\beta$ happens to be 0; in a trained one it is not), and run a few
# batches through it so BatchNorm's running statistics are not their defaults either. The
# upper weight layer of the right panel is `conv2` followed by `bn2`, each with a weight and a
# bias. We check the block in training mode (batch statistics) and in evaluation mode (running
# statistics), on a non-negative input like the output of a previous block's ReLU.

# %%
torch.manual_seed(0)
X = torch.rand(4, 3, 6, 6)  # the notes' input; non-negative, like a ReLU's output


def pretend_trained(block):
    """Move every parameter away from its initial value (BatchNorm's beta too) and give
    BatchNorm running statistics, as training does."""
    with torch.no_grad():
        for parameter in block.parameters():
            parameter.add_(torch.randn_like(parameter))
        for _ in range(5):
            block.train()(torch.randn(8, block.conv1.in_channels, 6, 6))
    return block


def is_identity(block):
    """Does the block output exactly its input X, in training and in evaluation mode?"""
    with torch.no_grad():
        return all(torch.equal(block.train(mode)(X), X) for mode in (True, False))


pretend_trained(block)
upper_conv, upper_bn = weight_layers[-1]  # the upper weight layer of the right panel
identity = {"trained": is_identity(block)}
with torch.no_grad():
    upper_conv.weight.zero_()
    upper_conv.bias.zero_()
identity["conv2: weight = bias = 0"] = is_identity(block)
with torch.no_grad():
    upper_bn.weight.zero_()
    upper_bn.bias.zero_()
identity["+ bn2: weight = bias = 0"] = is_identity(block)
print(identity)
assert list(identity.values()) == [False, False, True]

# %% [markdown]
# Zeroing the convolution alone is not enough: BatchNorm follows it and adds its own shift.
# With the whole weight layer at zero, the block outputs its input, bit for bit, in both modes.
#
# In fact only the *last* layer's weight and bias matter. BatchNorm computes
# $\gamma \hat{\mathbf{z}} + \beta$ from the normalised $\hat{\mathbf{z}}$; PyTorch calls
# $\gamma$ its `weight` and $\beta$ its `bias`, and with both at 0 it outputs 0 whatever the
# convolution before it computes. That is what the module's `zero_init_()` does:

# %%
print(inspect.getsource(Residual.zero_init_))

gamma_only = pretend_trained(Residual(3, 3))
with torch.no_grad():
    gamma_only.bn2.weight.zero_()  # gamma only: the branch still outputs beta
zero_init = pretend_trained(Residual(3, 3)).zero_init_()
print({"bn2.weight = 0": is_identity(gamma_only), "zero_init_()": is_identity(zero_init)})
assert not is_identity(gamma_only) and is_identity(zero_init)

# %% [markdown]
# On inputs of either sign the zero-initialised block computes $\mathrm{ReLU}(\mathbf{x})$:
# inside a ResNet every block's input comes out of a ReLU, is non-negative, and passes through
# unchanged. A picture of it: every output value against its input value. The zero-initialised
# block puts every point on the ReLU line; a (pretend) trained block without it does not.

# %%
X_signed = torch.randn(4, 3, 6, 6)
trained = pretend_trained(Residual(3, 3)).eval()
with torch.no_grad():
    pairs = {"pretend_trained": trained(X_signed), "zero_init_()": zero_init.eval()(X_signed)}
assert torch.equal(pairs["zero_init_()"], torch.relu(X_signed))
assert not torch.allclose(pairs["pretend_trained"], torch.relu(X_signed), atol=0.1)

titles = {"pretend_trained": i18n.label("as_if_trained"),
          "zero_init_()": i18n.label("after_zero_init")}
fig, axes = plt.subplots(1, 2, figsize=(8, 3.5), sharey=True)
for ax, (name, out) in zip(axes, pairs.items()):
    ax.scatter(X_signed.flatten(), out.flatten(), s=4, alpha=0.5)
    ax.set_title(titles[name])
    ax.set_xlabel("$x$")
axes[0].set_ylabel("$\\mathrm{ReLU}(f(x))$")
plt.show()

# %% [markdown]
# When the ideal mapping is *close* to the identity, the residual mapping only has to capture
# the small deviations from it, which is easier than rebuilding $\mathbf{x}$ from scratch.
#
# ## The block's layers
#
# ResNet keeps VGG's full $3\times 3$ convolutional layer design. The residual block has two
# $3\times 3$ convolutional layers with the same number of output channels. Each is followed by
# a batch normalization layer and a ReLU activation function (for the second, the ReLU comes
# after the addition). Then a data path across the
# layers skips the two convolutions and adds the input directly before the last ReLU. The
# module's `forward`:

# %%
print(inspect.getsource(Residual.forward))

# %% [markdown]
# The order can be checked on the module itself, not just read: forward hooks record every
# layer's input and output in the order `forward` calls them. Then each input must be the
# previous output (through a ReLU where the notes put one), and the block's output must be
# $\mathrm{ReLU}(\mathrm{bn2} + \mathbf{x})$. Its two convolutions are held against
# torchvision's `BasicBlock`, the standard ResNet-18 block: two $3\times 3$ convolutions with
# the same number of output channels.

# %%
block = Residual(3, 3)
names = {module: name for name, module in block.named_children()}
calls = []  # (name, input, output) of each layer, in call order


def record(module, inputs, output):
    calls.append((names[module], inputs[0].clone(), output.clone()))  # forward adds in place


hooks = [module.register_forward_hook(record) for module in names]
with torch.no_grad():
    Y = block(X)
for hook in hooks:
    hook.remove()

print(" → ".join(name for name, _, _ in calls))
(_, conv1_in, conv1_out), (_, bn1_in, bn1_out), (_, conv2_in, conv2_out), (_, bn2_in, bn2_out) = calls
assert [name for name, _, _ in calls] == ["conv1", "bn1", "conv2", "bn2"]
assert torch.equal(conv1_in, X) and torch.equal(bn1_in, conv1_out)  # conv -> BN
assert torch.equal(conv2_in, F.relu(bn1_out))  # -> ReLU -> conv
assert torch.equal(bn2_in, conv2_out)  # -> BN
assert torch.equal(Y, F.relu(bn2_out + X))  # -> + x -> ReLU


def conv_hyperparameters(block):
    return [(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding)
            for conv in (block.conv1, block.conv2)]


assert conv_hyperparameters(block) == conv_hyperparameters(BasicBlock(3, 3))

# %% [markdown]
# ## The notes' two shape checks
#
# This design needs the output of the two convolutions to have the same shape as the input, so
# that they can be added. With matching channels and stride 1 it does:

# %%
Y = Residual(3, 3)(X)
print(Y.shape)
assert Y.shape == X.shape

# %% [markdown]
# `Residual(3, 6, use_1x1conv=True, strides=2)` halves height and width (the stride 2) and
# outputs 6 channels, twice the 3 it takes in. The doubling comes from `num_channels=6`: the
# 1x1 convolution only brings the input to the same shape, so with `num_channels=3` the same
# settings keep 3 channels. This is what the first block of every later ResNet stage does
# (`num_channels` twice `input_channels`):

# %%
Y = Residual(3, 6, use_1x1conv=True, strides=2)(X)
print(Y.shape)
assert Y.shape == torch.Size([4, 6, 3, 3])
assert Residual(3, 3, use_1x1conv=True, strides=2)(X).shape == torch.Size([4, 3, 3, 3])

# %% [markdown]
# ## Why the 1x1 convolution is needed
#
# The shortcut *adds* the input to the output of the two convolutions, and tensors can only be
# added when their shapes agree. The convolutions change the shape whenever the block changes
# the number of channels (3 → 6) or uses a stride (6x6 → 3x3). Run the residual branch of
# `Residual(3, 6, use_1x1conv=True, strides=2)` on its own, with the block's own layers, and
# try the raw addition:

# %%
block = Residual(3, 6, use_1x1conv=True, strides=2)
with torch.no_grad():
    branch = block.bn2(block.conv2(F.relu(block.bn1(block.conv1(X)))))
print(tuple(X.shape), tuple(branch.shape))
try:
    branch + X
    added = True
except RuntimeError as error:
    print("RuntimeError:", error)
    added = False
assert branch.shape == torch.Size([4, 6, 3, 3]) and not added

# %% [markdown]
# Worse, a one-channel input would *not* fail: PyTorch broadcasts it across all channels and
# silently computes something else. So the module's block refuses a mismatch itself, with
# a message that says what to do:

# %%
print((torch.rand(4, 6, 6, 6) + torch.rand(4, 1, 6, 6)).shape)  # no error: broadcast

try:
    Residual(3, 6)  # more channels, no 1x1 conv
    refused = False
except ValueError as error:
    print("ValueError:", error)
    refused = "use_1x1conv=True" in str(error)
assert refused

# %% [markdown]
# The same happens with a stride but unchanged channels: the convolutions shrink 6x6 to 3x3,
# the shortcut still carries 6x6.

# %%
try:
    Residual(3, 3, strides=2)(X)
    message = ""
except ValueError as error:
    message = str(error)
print("ValueError:", message)
assert "(4, 3, 6, 6)" in message and "(4, 3, 3, 3)" in message

# %% [markdown]
# The fix: if we want to change the number of channels, an extra $1\times 1$ convolutional
# layer transforms the input into the required shape before the addition. The block without
# and with it:

# %%
draw_blocks([Residual(3, 3), Residual(3, 6, use_1x1conv=True, strides=2)])

# %% [markdown]
# The $1\times 1$ convolution mixes channels at each pixel (a learned linear map from 3 to 6
# numbers) and, with the block's stride, keeps every second pixel, so the input arrives in
# exactly the shape of the convolution path. The block's output is then the sum of the two,
# through the last ReLU:

# %%
with torch.no_grad():
    shortcut = block.shortcut(X)
    every_second_pixel = F.conv2d(X[..., ::2, ::2], block.shortcut.weight, block.shortcut.bias)
    Y = block(X)
print(block.shortcut)
print(tuple(shortcut.shape))
assert shortcut.shape == branch.shape
assert torch.allclose(shortcut, every_second_pixel, atol=1e-6)
assert torch.equal(Y, F.relu(branch + shortcut))

# %% [markdown]
# ## Try it: which blocks can add their shortcut?
#
# `block_output_shape` does the arithmetic without building a block: a $3\times 3$ convolution
# with padding 1 and stride $s$ turns a side of $n$ pixels into
# $\lfloor (n + 2 - 3)/s \rfloor + 1$. It returns the output shape, or the reason the addition
# cannot work. Checked against real blocks, for the notes' block, an odd height (7 with stride
# 2 gives 4: the formula rounds down after adding the padding), and a stride without the
# $1\times 1$ convolution:

# %%
from d2lresnet import block_output_shape
from d2lresnet.widgets import block_shape_widget, controls


def real_block_shape(input_channels, num_channels, strides, use_1x1conv, height, width):
    """The (channels, height, width) a real Residual outputs, or None if it refuses."""
    try:
        block = Residual(input_channels, num_channels, use_1x1conv, strides)
        return tuple(block(torch.rand(2, input_channels, height, width)).shape[1:])
    except ValueError:
        return None


for case in [dict(input_channels=3, num_channels=6, strides=2, use_1x1conv=True, height=6, width=6),
             dict(input_channels=3, num_channels=6, strides=2, use_1x1conv=True, height=7, width=6),
             dict(input_channels=3, num_channels=3, strides=2, use_1x1conv=False, height=6, width=6)]:
    predicted = block_output_shape(**case)
    print(predicted)
    assert predicted.shape == real_block_shape(**case)
assert predicted.shape is None and predicted.reason  # the last one cannot add

# %% [markdown]
# The same function behind sliders. Try an odd height, or switch the 1x1 convolution off.
# Checked against real blocks: the widget shows the shape a real block outputs, and with the
# checkbox off, where a real block refuses, it says the addition cannot work.

# %%
widget = block_shape_widget()
settings = {name: control.value for name, control in controls(widget).items()}
assert widget.result.endswith(str(real_block_shape(**settings)))  # e.g. "(6, 3, 3)"
controls(widget)["use_1x1conv"].value = False  # the checkbox drives the answer ...
assert real_block_shape(**{**settings, "use_1x1conv": False}) is None
assert widget.result.startswith(i18n.tr("cannot_add", reason=""))
controls(widget)["use_1x1conv"].value = True  # ... and back to the notes' block
widget

# %% [markdown]
# ## Summary
#
# * A residual block fits the residual mapping $f(\mathbf{x}) - \mathbf{x}$ instead of
#   $f(\mathbf{x})$. With the weight and bias of the upper weight layer at 0 it is exactly the
#   identity mapping (on the non-negative output of a ReLU); `zero_init_()` zeroes the last
#   BatchNorm's $\gamma$ and $\beta$ to get there, also in a trained block.
# * The notes' block: $3\times 3$ conv → batch normalization → ReLU → $3\times 3$ conv →
#   batch normalization → add the input → ReLU, checked on the module with forward hooks.
# * The input can only be added when the shapes agree. When the block changes the number of
#   channels or uses a stride, a $1\times 1$ convolution on the shortcut brings the input to
#   the output's shape.

# %% [markdown]
# ## Exercises
#
# Each exercise has an answer cell: replace its `...` with your answer (a number, or code that
# computes it) and run it, then run the check below it. The check says whether you are right
# and, when you are not, gives a hint; it computes the right answer from the module, so the
# answer is written nowhere in this notebook. Under each check a worked solution is folded
# away: click the three dots (JupyterLab) or *Show code* (Colab) to open it. The copies an
# instructor hands out (`make student`) leave the solutions out.

# %%
from d2lresnet import exercises

# %% [markdown]
# **Exercise 1.** What shape (channels, height, width) does
# `Residual(64, 128, use_1x1conv=True, strides=2)` put out for an input of 64 channels of 15x15
# pixels? Work it out by hand; `block_output_shape` or the widget above can then confirm it.

# %%
answer_2_1 = ...  # your answer

# %%
exercises.check("02.1", answer_2_1)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
side = (15 + 2 - 3) // 2 + 1  # a 3x3 conv, padding 1, stride 2 (the 1x1 shortcut agrees)
answer_2_1 = (128, side, side)  # the channels come from num_channels
block = Residual(64, 128, use_1x1conv=True, strides=2)
assert block(torch.rand(1, 64, 15, 15)).shape[1:] == answer_2_1  # a real block agrees
assert exercises.check("02.1", answer_2_1)

# %% [markdown]
# **Exercise 2.** On an input of 3 channels of 6x6 pixels, which of these blocks
# can add the input to the output of their two convolutions? Answer with a list of letters, like
# `["a", "b"]`.
#
# * (a) `Residual(3, 3)`
# * (b) `Residual(3, 6)`
# * (c) `Residual(3, 3, strides=2)`
# * (d) `Residual(3, 6, use_1x1conv=True, strides=2)`
# * (e) `Residual(3, 3, use_1x1conv=True)`

# %%
answer_2_2 = ...  # your answer

# %%
exercises.check("02.2", answer_2_2)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
# Without use_1x1conv=True the input is added as it is: (b) changes the channels and (c)
# the height and width, so neither can add. (a) changes neither; (d) and (e) bring the input
# to the output's shape with the 1x1 conv (which (e) does not even need).
answer_2_2 = ["a", "d", "e"]
assert exercises.check("02.2", answer_2_2)

# %% [markdown]
# **Exercise 3.** How many parameters does the 1x1 convolution on the shortcut of
# `Residual(64, 128, use_1x1conv=True, strides=2)` have?

# %%
answer_2_3 = ...  # your answer

# %%
exercises.check("02.3", answer_2_3)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
answer_2_3 = 64 * 128 + 128  # a weight per (input, output) channel pair, a bias per output
assert exercises.check("02.3", answer_2_3)
