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
# You will take the notes' residual block apart: zero one weight layer to make it the
# identity mapping, check its layers, and see why a block that changes the shape needs a
# $1\times 1$ convolution. Then try shapes with sliders and answer three exercises. Run All
# takes about 10 seconds under the default preset on a 2-core CPU.

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

# %% [markdown]
# Call the block's input $\mathbf{x}$ and the ideal mapping we would like it to learn
# $f(\mathbf{x})$ (the input of the activation function at the top of the figure). The part
# inside the dashed box on the left, a regular block, has to fit the mapping $f(\mathbf{x})$
# directly; the part inside the dashed box on the right has to fit the **residual mapping**
# $f(\mathbf{x}) - \mathbf{x}$, and the input is added back before the last activation. The
# figure is drawn from `Residual(3, 3)`: a weight layer is a convolution and its batch
# normalization.

# %%
import inspect

import matplotlib.pyplot as plt
import torch
from torch.nn import functional as F

from d2lresnet import Residual
from d2lresnet.drawing.diagrams import draw_blocks, draw_regular_vs_residual

block = Residual(3, 3)
draw_regular_vs_residual(block)

# %% [markdown]
# ## The identity mapping (恒等映射)
#
# The residual mapping is often easier to optimise. Take the identity as the ideal mapping
# $f(\mathbf{x})$. In the notes' words: we only need to set the weight and bias parameters of
# the upper weighted operation (e.g. affine) in the right dashed box to 0, and $f(\mathbf{x})$
# is the identity mapping (只需将右图虚线框内上方的加权运算（如仿射）的权重和偏置参数设成0，
# 那么$f(\mathbf{x})$即为恒等映射).
#
# Let us do it on the block of the figure. A new block would make it too easy (its BatchNorm
# shift $\beta$ starts at 0, PyTorch's initial value), so first move every parameter away from
# its initial value, as training would. The upper weight layer is `conv2` then `bn2`. We check
# training and evaluation mode, on a non-negative input like a ReLU's output.

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
identity = {"pretend_trained(block)": is_identity(block)}
with torch.no_grad():
    block.conv2.weight.zero_()
    block.conv2.bias.zero_()
identity["conv2.weight = conv2.bias = 0"] = is_identity(block)
with torch.no_grad():
    block.bn2.weight.zero_()
    block.bn2.bias.zero_()
identity["bn2.weight = bn2.bias = 0"] = is_identity(block)
print(identity)
assert list(identity.values()) == [False, False, True]

# %% [markdown]
# Zeroing the convolution alone is not enough: the BatchNorm after it adds its shift. With the
# whole weight layer at zero, the block outputs its input, bit for bit, in both modes.
#
# In fact only the *last* layer matters: BatchNorm outputs $\gamma \hat{\mathbf{z}} + \beta$
# (PyTorch's `weight` and `bias`), which is 0 when both are. That is `zero_init_()`; zeroing
# $\gamma$ alone leaves a trained block's $\beta$:

# %%
gamma_only = pretend_trained(Residual(3, 3))
with torch.no_grad():
    gamma_only.bn2.weight.zero_()  # gamma only: the branch still outputs beta
zero_init = pretend_trained(Residual(3, 3)).zero_init_()
print({"bn2.weight = 0": is_identity(gamma_only), "zero_init_()": is_identity(zero_init)})
assert not is_identity(gamma_only) and is_identity(zero_init)

# %% [markdown]
# On inputs of either sign the zero-initialised block computes $\mathrm{ReLU}(\mathbf{x})$;
# in a ResNet every block's input is a ReLU's output and passes unchanged:

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
# When the ideal mapping is *close* to the identity, the residual mapping easily captures the
# small deviations from it.
#
# ## The block's layers
#
# ResNet keeps VGG's full $3\times 3$ convolutional layer design. The residual block has two
# $3\times 3$ convolutional layers with the same number of output channels. Each is followed by
# a batch normalization layer and a ReLU activation function. Then a data path across the
# layers skips the two convolutions and adds the input directly before the last ReLU. The
# module's `forward`, checked against that order:

# %%
print(inspect.getsource(Residual.forward))

block = Residual(3, 3)
with torch.no_grad():
    by_the_notes = F.relu(block.bn2(block.conv2(F.relu(block.bn1(block.conv1(X))))) + X)
    assert torch.equal(block(X), by_the_notes)

# %% [markdown]
# ## The notes' two shape checks
#
# This design needs the output of the two convolutions to have the same shape as the input, so
# that they can be added. The notes' second block halves height and width and doubles the
# channels, as the first block of every later stage does:

# %%
print(Residual(3, 3)(X).shape)
Y = Residual(3, 6, use_1x1conv=True, strides=2)(X)
print(Y.shape)
assert Y.shape == (4, 6, 3, 3)

# %% [markdown]
# ## Why the 1x1 convolution is needed
#
# The shortcut, the data path across the layers, *adds* the input to the output of the
# residual branch (the block's layers), and only tensors of the same shape add. A block that changes the channels (3 → 6) or has a stride above 1 (6×6 → 3×3) changes
# the branch's shape. The second block's branch, and the raw addition:

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
assert not added

# %% [markdown]
# The fix: if we want to change the number of channels, an extra $1\times 1$ convolutional
# layer transforms the input into the required shape before the addition. The block without
# and with it:

# %%
draw_blocks([Residual(3, 3), Residual(3, 6, use_1x1conv=True, strides=2)])

# %% [markdown]
# The $1\times 1$ convolution mixes the channels of each pixel and, with the block's stride,
# keeps every second pixel: the input arrives in the branch's shape. The output is their sum,
# through the last ReLU:

# %%
with torch.no_grad():
    shortcut = block.shortcut(X)
    every_second_pixel = F.conv2d(X[..., ::2, ::2], block.shortcut.weight, block.shortcut.bias)
    Y = block(X)
print(block.shortcut)
print(tuple(shortcut.shape))
assert torch.allclose(shortcut, every_second_pixel, atol=1e-6)
assert torch.equal(Y, F.relu(branch + shortcut))

# %% [markdown]
# ## Try it: which blocks can add their shortcut?
#
# `block_output_shape` does the arithmetic without building a block: a $3\times 3$ convolution
# with padding 1 and stride $s$ turns a side of $n$ into $\lfloor (n + 2 - 3)/s \rfloor + 1$.
# It returns the output shape, or why the addition cannot work. Three cases, and a real block
# for the odd height (7 gives 4):

# %%
from d2lresnet import block_output_shape
from d2lresnet.widgets import block_shape_widget

print(block_output_shape(3, 6, strides=2, use_1x1conv=True, height=6, width=6))
print(block_output_shape(3, 6, strides=2, use_1x1conv=True, height=7, width=6))
print(block_output_shape(3, 3, strides=2, use_1x1conv=False, height=6, width=6))
odd = Residual(3, 6, use_1x1conv=True, strides=2)(torch.rand(1, 3, 7, 6))
assert tuple(odd.shape[1:]) == (6, 4, 3)

# %% [markdown]
# The same function behind sliders. Try an odd height, or switch the $1\times 1$ convolution
# off:

# %%
block_shape_widget()

# %% [markdown]
# ## Summary
#
# * A residual block fits the residual mapping $f(\mathbf{x}) - \mathbf{x}$. With its upper
#   weight layer at zero (`zero_init_()`) it is the identity mapping on a ReLU's output.
# * Its layers: conv → batch normalization → ReLU → conv → batch normalization → add the
#   input → ReLU.
# * A block that changes the channels or the side needs a $1\times 1$ convolution on the
#   shortcut, so that the shapes agree.

# %% [markdown]
# ## Exercises
#
# Replace each `...` with your answer (a value, or code that computes it) and run the cell,
# then the check below it, which says whether you are right or gives a hint.

# %%
from d2lresnet import exercises

# %% [markdown]
# **Exercise 1.** What shape does `Residual(64, 128, use_1x1conv=True, strides=2)` put out for
# an input of 64 channels of 15×15 pixels? Answer with a tuple of three integers
# (channels, height, width). Work it out by hand first.

# %%
answer_2_1 = ...  # your answer · 你的答案

# %%
exercises.check("02.1", answer_2_1)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
side = (15 + 2 - 3) // 2 + 1  # a 3x3 conv, padding 1, stride 2 (the 1x1 shortcut agrees)
solution_2_1 = (128, side, side)  # the channels come from num_channels
block = Residual(64, 128, use_1x1conv=True, strides=2)
assert block(torch.rand(1, 64, 15, 15)).shape[1:] == solution_2_1  # a real block agrees
assert exercises.check("02.1", solution_2_1)

# %% [markdown]
# **Exercise 2.** On an input of 3 channels of 6×6 pixels, which of these blocks can add
# their input to their branch's output? Answer with a list of letters, like `["a", "b"]`.
#
# * (a) `Residual(3, 3)`
# * (b) `Residual(3, 6)`
# * (c) `Residual(3, 3, strides=2)`
# * (d) `Residual(3, 6, use_1x1conv=True, strides=2)`
# * (e) `Residual(3, 3, use_1x1conv=True)`

# %%
answer_2_2 = ...  # your answer · 你的答案

# %%
exercises.check("02.2", answer_2_2)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
# Without use_1x1conv=True the input is added as it is: (b) changes the channels and (c)
# the height and width, so neither can add. (a) changes neither; (d) and (e) bring the input
# to the output's shape with the 1x1 conv (which (e) does not even need).
solution_2_2 = ["a", "d", "e"]
assert exercises.check("02.2", solution_2_2)

# %% [markdown]
# **Exercise 3.** How many parameters does the $1\times 1$ convolution on the shortcut of
# `Residual(64, 128, use_1x1conv=True, strides=2)` have, weights and biases together (it has
# biases, PyTorch's default)? Answer with an integer.

# %%
answer_2_3 = ...  # your answer · 你的答案

# %%
exercises.check("02.3", answer_2_3)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
solution_2_3 = 64 * 128 + 128  # a weight per (input, output) channel pair, a bias per output
assert exercises.check("02.3", solution_2_3)

# %% [markdown]
# ## Going further
#
# **A weight layer is affine only in evaluation mode.** In evaluation mode BatchNorm uses its
# running statistics, so a convolution and the BatchNorm after it are both affine maps and
# together form one "weight layer" of the notes' figure. In training mode BatchNorm normalises
# with the statistics of the current batch, so what it does to one example depends on the
# others in the batch:

# %%
fresh = Residual(3, 3)
lower_weight_layer = torch.nn.Sequential(fresh.conv1, fresh.bn1)
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
# **A mismatch that does not fail.** A one-channel input would add without an error: PyTorch
# broadcasts it across all channels and silently computes something else. So `Residual`
# checks the shapes itself and refuses a mismatch, with a message that says what to do:

# %%
print((torch.rand(4, 6, 6, 6) + torch.rand(4, 1, 6, 6)).shape)  # no error: broadcast
try:
    Residual(3, 3, strides=2)(X)
except ValueError as error:
    print(error)
