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
# # 6.2 残差块
#
# 本节把笔记中的残差块拆开来看：把一个加权层设成0，让它变成恒等映射；检查它的各层；再看看改变形状的残差块为什么需要$1\times 1$卷积层。然后用滑块试试各种形状，并完成三道练习。在默认预设下，在双核CPU上“全部运行”需要约10秒。

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

# %% [markdown]
# 假设我们的原始输入为$\mathbf{x}$，而希望学出的理想映射为$f(\mathbf{x})$（作为图中上方激活函数的输入）。左图是一个正常块，虚线框中的部分需要直接拟合出该映射$f(\mathbf{x})$；而右图虚线框中的部分则需要拟合出**残差映射**$f(\mathbf{x}) - \mathbf{x}$，输入在最后的激活函数之前被加回来。这幅图是根据`Residual(3, 3)`画出的：一个加权层就是一个卷积层及其后的批量规范化层。

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
# ## 恒等映射
#
# 残差映射在现实中往往更容易优化。以恒等映射作为我们希望学出的理想映射$f(\mathbf{x})$，笔记中说：我们只需将右图虚线框内上方的加权运算（如仿射）的权重和偏置参数设成0，那么$f(\mathbf{x})$即为恒等映射。
#
# 我们就在画图所用的残差块上照着做。新建的残差块会让检验过于容易（它的批量规范化层的偏移参数$\beta$从0开始，这是PyTorch的初始值），所以先像训练那样，把所有参数都从初始值移开。右图上方的加权层是`conv2`和随后的`bn2`。我们在训练模式和预测模式下分别检验，输入取非负值，就像ReLU的输出那样。

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
# 只把卷积层设成0还不够：它后面的批量规范化层还会加上自己的偏移。整个加权层都为0时，残差块在两种模式下都逐位精确地输出它的输入。
#
# 实际上，关键只在**最后一层**：批量规范化层输出$\gamma \hat{\mathbf{z}} + \beta$（拉伸参数$\gamma$和偏移参数$\beta$，PyTorch分别称为`weight`和`bias`），两者都为0时输出就是0。`zero_init_()`做的正是这件事；只把$\gamma$设成0，训练过的残差块还留着它的$\beta$：

# %%
gamma_only = pretend_trained(Residual(3, 3))
with torch.no_grad():
    gamma_only.bn2.weight.zero_()  # gamma only: the branch still outputs beta
zero_init = pretend_trained(Residual(3, 3)).zero_init_()
print({"bn2.weight = 0": is_identity(gamma_only), "zero_init_()": is_identity(zero_init)})
assert not is_identity(gamma_only) and is_identity(zero_init)

# %% [markdown]
# 对于有正有负的输入，零初始化的残差块计算$\mathrm{ReLU}(\mathbf{x})$；在ResNet中，每个残差块的输入都是ReLU的输出，因此会原样通过：

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
# 当理想映射$f(\mathbf{x})$极接近于恒等映射时，残差映射也易于捕捉恒等映射的细微波动。
#
# ## 残差块的层
#
# ResNet沿用了VGG完整的$3\times 3$卷积层设计。残差块里首先有2个有相同输出通道数的$3\times 3$卷积层。每个卷积层后接一个批量规范化层和ReLU激活函数。然后我们通过跨层数据通路，跳过这2个卷积运算，将输入直接加在最后的ReLU激活函数前。下面是`Residual`的`forward`，并按这个顺序逐层核对：

# %%
print(inspect.getsource(Residual.forward))

block = Residual(3, 3)
with torch.no_grad():
    by_the_notes = F.relu(block.bn2(block.conv2(F.relu(block.bn1(block.conv1(X))))) + X)
    assert torch.equal(block(X), by_the_notes)

# %% [markdown]
# ## 笔记中的两个形状检查
#
# 这样的设计要求2个卷积层的输出与输入形状一样，从而使它们可以相加。笔记中的第二个残差块把高和宽减半、通道数加倍，之后每个模块的第一个残差块正是这样做的：

# %%
print(Residual(3, 3)(X).shape)
Y = Residual(3, 6, use_1x1conv=True, strides=2)(X)
print(Y.shape)
assert Y.shape == (4, 6, 3, 3)

# %% [markdown]
# ## 为什么需要$1\times 1$卷积层
#
# 跨层数据通路把输入**加**到残差分支（残差块中的各层）的输出上，而只有形状相同的张量才能相加。残差块改变通道数（3 → 6）或步幅大于1（6×6 → 3×3）时，残差分支输出的形状就会改变。下面单独运行第二个残差块的残差分支，再直接相加：

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
# 解决办法：如果想改变通道数，就需要引入一个额外的$1\times 1$卷积层来将输入变换成需要的形状后再做相加运算。下面是不含和含$1\times 1$卷积层的残差块：

# %%
draw_blocks([Residual(3, 3), Residual(3, 6, use_1x1conv=True, strides=2)])

# %% [markdown]
# $1\times 1$卷积层在每个像素上混合各个通道，并按残差块的步幅每隔一个像素取一个，于是输入变成残差分支输出的形状。残差块的输出就是两者之和，再经过最后的ReLU：

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
# ## 动手试试：哪些残差块能把输入加上去？
#
# `block_output_shape`不必构造残差块就能算出形状：填充为1、步幅为$s$的$3\times 3$卷积层把边长$n$变成$\lfloor (n + 2 - 3)/s \rfloor + 1$。它返回输出形状，或者无法相加的原因。下面是三种情况，高为奇数的情况（高7变为4）再用真实的残差块核对：

# %%
from d2lresnet import block_output_shape
from d2lresnet.widgets import block_shape_widget

print(block_output_shape(3, 6, strides=2, use_1x1conv=True, height=6, width=6))
print(block_output_shape(3, 6, strides=2, use_1x1conv=True, height=7, width=6))
print(block_output_shape(3, 3, strides=2, use_1x1conv=False, height=6, width=6))
odd = Residual(3, 6, use_1x1conv=True, strides=2)(torch.rand(1, 3, 7, 6))
assert tuple(odd.shape[1:]) == (6, 4, 3)

# %% [markdown]
# 同一个函数，配上滑块。试试奇数的高，或者关掉$1\times 1$卷积层：

# %%
block_shape_widget()

# %% [markdown]
# ## 小结
#
# * 残差块拟合的是残差映射$f(\mathbf{x}) - \mathbf{x}$。上方加权层为0时（`zero_init_()`），它对ReLU的输出就是恒等映射。
# * 它的各层：卷积层 → 批量规范化层 → ReLU → 卷积层 → 批量规范化层 → 加上输入 → ReLU。
# * 改变通道数或高和宽的残差块，需要在跨层数据通路上加一个$1\times 1$卷积层，使形状一致。

# %% [markdown]
# ## 练习
#
# 把每个`...`换成你的答案（一个值，或者计算它的代码）并运行，再运行它下面的检查单元：它会告诉你答得对不对，不对时给出提示。

# %%
from d2lresnet import exercises

# %% [markdown]
# **练习1**：`Residual(64, 128, use_1x1conv=True, strides=2)`作用于64个通道、15×15像素的输入时，输出的形状是什么？用三个整数组成的元组（通道数，高，宽）作答。请先手算。

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
# **练习2**：对于3个通道、6×6像素的输入，下面哪些残差块能把输入加到残差分支的输出上？用字母列表作答，例如`["a", "b"]`。
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
# **练习3**：`Residual(64, 128, use_1x1conv=True, strides=2)`的跨层数据通路上的$1\times 1$卷积层有多少个参数？权重和偏置都算在内（它有偏置，这是PyTorch的默认设置）。用一个整数作答。

# %%
answer_2_3 = ...  # your answer · 你的答案

# %%
exercises.check("02.3", answer_2_3)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
solution_2_3 = 64 * 128 + 128  # a weight per (input, output) channel pair, a bias per output
assert exercises.check("02.3", solution_2_3)

# %% [markdown]
# ## 更进一步
#
# **加权层只在预测模式下是仿射变换。** 在预测模式下，批量规范化层使用移动平均统计量，这时卷积层和批量规范化层都是仿射变换，合起来就是笔记图中的一个“加权层”。在训练模式下，批量规范化层用当前小批量的统计量做规范化，它对一个样本的输出还取决于同一小批量中的其他样本：

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
# **不会报错的形状不匹配。** 单通道的输入相加时不会报错：PyTorch会把它广播到所有通道上，悄无声息地算出另一个结果。所以`Residual`会自己检查形状，不匹配时直接报错，并在错误信息中说明该怎么做：

# %%
print((torch.rand(4, 6, 6, 6) + torch.rand(4, 1, 6, 6)).shape)  # no error: broadcast
try:
    Residual(3, 3, strides=2)(X)
except ValueError as error:
    print(error)
