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
# Call the block's input $\mathbf{x}$ and the mapping we would like it to learn
# $f(\mathbf{x})$. A plain block has to fit $f(\mathbf{x})$ directly. A residual block fits the
# **residual** $g(\mathbf{x}) = f(\mathbf{x}) - \mathbf{x}$ and adds the input back:
# $f(\mathbf{x}) = \mathbf{x} + g(\mathbf{x})$. Two consequences:
#
# * if the ideal mapping is the identity, the block only has to push $g$ to zero — set the
#   weights and biases of its last layer to 0 and it is done;
# * if the ideal mapping is *close* to the identity, $g$ only has to capture the small
#   deviations, which is easier than rebuilding $\mathbf{x}$ from scratch.
#
# ResNet keeps VGG's full 3x3 convolutions. The block has two 3x3 convolutions with the same
# number of output channels, each followed by BatchNorm, the first also by a ReLU. A shortcut
# skips both and adds the input just before the final ReLU. The block lives in the module;
# here is its `forward`:

# %%
import inspect

import matplotlib.pyplot as plt
import torch
from torch import nn

from d2lresnet import Residual

print(inspect.getsource(Residual.forward))

# %% [markdown]
# ## The notes' two shape checks
#
# With matching channels and stride 1, the output has the input's shape:

# %%
torch.manual_seed(0)
X = torch.rand(4, 3, 6, 6)
Y = Residual(3, 3)(X)
print(Y.shape)
assert Y.shape == torch.Size([4, 3, 6, 6])

# %% [markdown]
# With `use_1x1conv=True, strides=2` the block doubles the channels and halves height and
# width — what the first block of every later ResNet stage does:

# %%
Y = Residual(3, 6, use_1x1conv=True, strides=2)(X)
print(Y.shape)
assert Y.shape == torch.Size([4, 6, 3, 3])

# %% [markdown]
# ## Why the 1x1 convolution is needed
#
# The shortcut *adds* the input to the output of the two convolutions, and tensors can only be
# added when their shapes agree. The convolutions change the shape whenever the block changes
# the number of channels (3 -> 6) or uses a stride (6x6 -> 3x3). The raw addition fails:

# %%
conv_path = torch.rand(4, 6, 3, 3)  # what the convolutions produce from X
try:
    conv_path + X
except RuntimeError as error:
    message = str(error)
print("RuntimeError:", message)
assert "must match" in message

# %% [markdown]
# Worse, a one-channel input would *not* fail: PyTorch broadcasts it across all channels and
# silently computes something else. So the module's block refuses a mismatch itself, with
# a message that says what to do:

# %%
print("silently broadcast:", (torch.rand(4, 6, 6, 6) + torch.rand(4, 1, 6, 6)).shape)

try:
    Residual(3, 6)  # more channels, no 1x1 conv
except ValueError as error:
    message = str(error)
print("ValueError:", message)
assert "use_1x1conv=True" in message

# %% [markdown]
# The same happens with a stride but unchanged channels: the convolutions shrink 6x6 to 3x3,
# the shortcut still carries 6x6.

# %%
try:
    Residual(3, 3, strides=2)(X)
except ValueError as error:
    message = str(error)
print("ValueError:", message)
assert "(4, 3, 6, 6)" in message and "(4, 3, 3, 3)" in message

# %% [markdown]
# The fix is a 1x1 convolution on the shortcut. It mixes channels at each pixel (a linear map
# from 3 to 6 numbers) and, with the block's stride, keeps every second pixel, so the input
# arrives in exactly the shape of the convolution path:

# %%
shortcut = nn.Conv2d(3, 6, kernel_size=1, stride=2)
print(shortcut(X).shape)
assert shortcut(X).shape == conv_path.shape

# %% [markdown]
# ## The identity property
#
# `zero_init_()` sets the scale $\gamma$ of the block's last BatchNorm to 0, so the residual
# branch outputs exactly 0 and the block computes $\mathrm{ReLU}(\mathbf{x})$. Inside a ResNet
# each block's input comes out of a ReLU, is non-negative, and passes through unchanged.

# %%
identity_block = Residual(3, 3).zero_init_()
X_signed = torch.randn(4, 3, 6, 6)
assert torch.equal(identity_block(X_signed), torch.relu(X_signed))
assert torch.equal(identity_block(X), X)  # X = torch.rand(...) is non-negative
print("zero-initialised block: output == relu(input)")

# %% [markdown]
# A picture of the same fact: every output value against its input value. The zero-initialised
# block puts every point on the ReLU line; the default (random) initialisation does not.

# %%
random_block = Residual(3, 3)
with torch.no_grad():
    pairs = {"zero_init_()": identity_block(X_signed), "default init": random_block(X_signed)}

fig, axes = plt.subplots(1, 2, figsize=(8, 3.5), sharey=True)
for ax, (name, out) in zip(axes, pairs.items()):
    ax.scatter(X_signed.flatten(), out.flatten(), s=4, alpha=0.5)
    ax.set_title(f"Residual(3, 3), {name}")
    ax.set_xlabel("input value")
axes[0].set_ylabel("output value")
plt.show()

# %% [markdown]
# ## Try it: which blocks can add their shortcut?
#
# `block_output_shape` does the arithmetic without building a block: a 3x3 convolution with
# padding 1 and stride $s$ turns a side of $n$ pixels into $\lfloor (n + 2 - 3)/s \rfloor + 1$.
# It returns the output shape, or the reason the addition cannot work:

# %%
from d2lresnet import block_output_shape
from d2lresnet.widgets import block_shape_widget, describe_block_shape

text = describe_block_shape(input_channels=3, num_channels=6, strides=2, use_1x1conv=True,
                            height=6, width=6)
assert text == "output shape (6, 3, 3)"
assert str(block_output_shape(3, 3, strides=2, use_1x1conv=False)).startswith("cannot add")

# %% [markdown]
# The same function behind sliders. Try an odd height (7 with stride 2 gives 4: the formula
# rounds down after adding the padding), or switch the 1x1 convolution off.

# %%
widget = block_shape_widget()
assert widget.result == "output shape (6, 3, 3)"
widget
