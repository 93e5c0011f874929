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
# 假设我们的原始输入为$\mathbf{x}$，而希望学出的理想映射为$f(\mathbf{x})$（作为图中上方激活函数的输入）。左图是一个正常块，虚线框中的部分需要直接拟合出该映射$f(\mathbf{x})$；而右图虚线框中的部分则需要拟合出**残差映射**$f(\mathbf{x}) - \mathbf{x}$，输入在最后的激活函数之前被加回来。两幅图都是根据模块中`Residual(3, 3)`的层画出来的。在预测模式下，批量规范化层使用移动平均统计量，这时卷积层和批量规范化层都是仿射变换，合起来就是笔记图中的一个“加权层”。（在训练模式下，批量规范化层用当前小批量的统计量做规范化，它对一个样本的输出还取决于同一小批量中的其他样本。）图后的单元格对两种模式都做了检验。

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
# ## 恒等映射
#
# 残差映射在现实中往往更容易优化。以恒等映射作为我们希望学出的理想映射$f(\mathbf{x})$，笔记中说：我们只需将右图虚线框内上方的加权运算（如仿射）的权重和偏置参数设成0，那么$f(\mathbf{x})$即为恒等映射。
#
# 我们就在画图所用的这个残差块上照着做。为了让检验公平，先像训练那样把它的所有参数都从初始值移开（新建的残差块中，批量规范化层的平移$\beta$恰好为0，训练过的则不然），再让几批数据通过它，使批量规范化层的移动平均统计量也不再是默认值。右图虚线框内上方的加权层是`conv2`和随后的`bn2`，各有一个权重和一个偏置。我们分别在训练模式（使用小批量的统计量）和预测模式（使用移动平均统计量）下检验，输入取非负值，就像前一个残差块的ReLU输出那样。

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
# 只把卷积层设成0还不够：它后面的批量规范化层还会加上自己的平移。整个加权层都为0时，残差块在两种模式下都逐位精确地输出它的输入。
#
# 实际上，关键只在**最后一层**的权重和偏置。批量规范化层由规范化后的$\hat{\mathbf{z}}$计算$\gamma \hat{\mathbf{z}} + \beta$；PyTorch把$\gamma$称为它的`weight`，把$\beta$称为它的`bias`。两者都为0时，无论前面的卷积层算出什么，它都输出0。模块中的`zero_init_()`做的正是这件事：

# %%
print(inspect.getsource(Residual.zero_init_))

gamma_only = pretend_trained(Residual(3, 3))
with torch.no_grad():
    gamma_only.bn2.weight.zero_()  # gamma only: the branch still outputs beta
zero_init = pretend_trained(Residual(3, 3)).zero_init_()
print({"bn2.weight = 0": is_identity(gamma_only), "zero_init_()": is_identity(zero_init)})
assert not is_identity(gamma_only) and is_identity(zero_init)

# %% [markdown]
# 对于有正有负的输入，零初始化的残差块计算$\mathrm{ReLU}(\mathbf{x})$。在ResNet中，每个残差块的输入都来自ReLU，都是非负的，因此会原样通过。画成图：横轴是每个输入值，纵轴是对应的输出值。零初始化的残差块让所有点都落在ReLU的折线上，（假装）训练过、未经零初始化的残差块则不然。

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
# 当理想映射$f(\mathbf{x})$极接近于恒等映射时，残差映射只需捕捉它与恒等映射之间的细微波动，这比从头重建出$\mathbf{x}$要容易。
#
# ## 残差块的层
#
# ResNet沿用了VGG完整的$3\times 3$卷积层设计。残差块里首先有2个有相同输出通道数的$3\times 3$卷积层。每个卷积层后接一个批量规范化层和ReLU激活函数（第二个卷积层的ReLU在相加之后）。然后我们通过跨层数据通路，跳过这2个卷积运算，将输入直接加在最后的ReLU激活函数前。模块中的`forward`如下：

# %%
print(inspect.getsource(Residual.forward))

# %% [markdown]
# 这个顺序不必只靠读代码，还可以直接在模块上检验：前向钩子（forward hook）按`forward`调用各层的顺序，记录每一层的输入和输出。于是，每一层的输入都必须是上一层的输出（笔记中有ReLU的地方要先经过ReLU），而残差块的输出必须是$\mathrm{ReLU}(\mathrm{bn2} + \mathbf{x})$。它的两个卷积层再与torchvision的`BasicBlock`（ResNet-18的标准残差块）对照：两个输出通道数相同的$3\times 3$卷积层。

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
# ## 笔记中的两个形状检查
#
# 这样的设计要求2个卷积层的输出与输入形状一样，从而使它们可以相加。通道数相同、步幅为1时正是如此：

# %%
Y = Residual(3, 3)(X)
print(Y.shape)
assert Y.shape == X.shape

# %% [markdown]
# `Residual(3, 6, use_1x1conv=True, strides=2)`把高和宽减半（步幅为2），输出6个通道，是输入的3个通道的两倍。通道数加倍来自`num_channels=6`：$1\times 1$卷积层只是把输入变换成同样的形状，所以同样的设置下取`num_channels=3`，通道数仍是3。ResNet后面每个模块的第一个残差块正是这样做的（`num_channels`是`input_channels`的两倍）：

# %%
Y = Residual(3, 6, use_1x1conv=True, strides=2)(X)
print(Y.shape)
assert Y.shape == torch.Size([4, 6, 3, 3])
assert Residual(3, 3, use_1x1conv=True, strides=2)(X).shape == torch.Size([4, 3, 3, 3])

# %% [markdown]
# ## 为什么需要$1\times 1$卷积层
#
# 跨层数据通路把输入**加**到两个卷积层的输出上，而只有形状一致的张量才能相加。只要残差块改变通道数（3 → 6）或使用步幅（6×6 → 3×3），卷积层就会改变形状。用`Residual(3, 6, use_1x1conv=True, strides=2)`自己的层单独运行残差分支，再直接相加试试：

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
# 更糟的是，单通道的输入**不会**报错：PyTorch会把它广播到所有通道上，悄无声息地算出另一个结果。所以模块中的残差块会自己检查形状，不匹配时直接报错，并在错误信息中说明该怎么做：

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
# 通道数不变但使用步幅时也是一样：卷积层把6×6缩小到3×3，跨层数据通路传过来的仍是6×6。

# %%
try:
    Residual(3, 3, strides=2)(X)
    message = ""
except ValueError as error:
    message = str(error)
print("ValueError:", message)
assert "(4, 3, 6, 6)" in message and "(4, 3, 3, 3)" in message

# %% [markdown]
# 解决办法：如果想改变通道数，就需要引入一个额外的$1\times 1$卷积层来将输入变换成需要的形状后再做相加运算。下面是不含和含$1\times 1$卷积层的残差块：

# %%
draw_blocks([Residual(3, 3), Residual(3, 6, use_1x1conv=True, strides=2)])

# %% [markdown]
# $1\times 1$卷积层在每个像素上混合各个通道（一个从3个数到6个数的、可学习的线性映射），并按残差块的步幅每隔一个像素取一个，于是输入变换后的形状与卷积通路的输出完全一致。残差块的输出就是两者之和，再经过最后的ReLU：

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
# ## 动手试试：哪些残差块能把输入加上去？
#
# `block_output_shape`不必构造残差块就能算出形状：填充为1、步幅为$s$的$3\times 3$卷积层把边长$n$变成$\lfloor (n + 2 - 3)/s \rfloor + 1$。它返回输出形状，或者无法相加的原因。下面用真实的残差块核对三种情况：笔记中的残差块；高为奇数（高为7、步幅为2时得到4：公式先加上填充，再向下取整）；使用步幅却没有$1\times 1$卷积层。

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
# 同一个函数，配上滑块。试试奇数的高，或者关掉$1\times 1$卷积层。下面用真实的残差块核对：滑块给出的形状就是真实残差块输出的形状；取消勾选时，真实的残差块会报错，滑块也说明无法相加。

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
# ## 小结
#
# * 残差块拟合的是残差映射$f(\mathbf{x}) - \mathbf{x}$，而不是$f(\mathbf{x})$。上方加权层的权重和偏置为0时，它恰好是恒等映射（对ReLU输出的非负值而言）；`zero_init_()`把最后一个批量规范化层的$\gamma$和$\beta$设成0来做到这一点，对训练过的残差块同样成立。
# * 笔记中的残差块：$3\times 3$卷积层 → 批量规范化层 → ReLU → $3\times 3$卷积层 → 批量规范化层 → 加上输入 → ReLU。我们用前向钩子在模块上检验了这个顺序。
# * 只有形状一致时才能把输入加上去。当残差块改变通道数或使用步幅时，跨层数据通路上的$1\times 1$卷积层把输入变换成输出的形状。

# %% [markdown]
# ## 练习
#
# 每道练习都有一个答案单元：把其中的`...`换成你的答案（一个数，或者计算它的代码）并运行，然后运行它下面的检查单元。检查单元告诉你答得对不对，不对时给出提示；正确答案由模块计算得出，所以本笔记本中任何地方都没有写出答案。每个检查单元下面折叠着一份解答：点击那三个点（JupyterLab）或**显示代码**（Colab）即可展开。教师分发的副本（`make student`）不含解答。

# %%
from d2lresnet import exercises

# %% [markdown]
# **练习1**：`Residual(64, 128, use_1x1conv=True, strides=2)`作用于64个通道、15×15像素的输入时，输出的形状（通道数, 高, 宽）是什么？请先手算，再用`block_output_shape`或上面的滑块验证。

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
# **练习2**：对于3个通道、6×6像素的输入，下面哪些残差块能把输入加到两个卷积层的输出上？用字母列表作答，例如`["a", "b"]`。
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
# **练习3**：`Residual(64, 128, use_1x1conv=True, strides=2)`的跨层数据通路上的1×1卷积层有多少个参数？

# %%
answer_2_3 = ...  # your answer

# %%
exercises.check("02.3", answer_2_3)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
answer_2_3 = 64 * 128 + 128  # a weight per (input, output) channel pair, a bias per output
assert exercises.check("02.3", answer_2_3)
