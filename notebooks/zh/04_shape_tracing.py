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
# # 查看形状
#
# 笔记在6.3的最后把一张224×224的图像送进网络，打印每个模块输出的形状：“分辨率降低，通道数量增加，直到全局平均汇聚层聚集所有特征。”我们先重现这段输出，再用输出大小的公式算出每一个边长，然后看看其他输入大小会怎样。在默认预设下，用2核CPU运行全部单元格（Run All）需要约10秒。

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

# %% [markdown]
# ## 笔记中的输出，逐行核对
#
# 这是笔记打印的内容：

# %%
EXPECTED = """\
Sequential output shape:\t torch.Size([1, 64, 56, 56])
Sequential output shape:\t torch.Size([1, 64, 56, 56])
Sequential output shape:\t torch.Size([1, 128, 28, 28])
Sequential output shape:\t torch.Size([1, 256, 14, 14])
Sequential output shape:\t torch.Size([1, 512, 7, 7])
AdaptiveAvgPool2d output shape:\t torch.Size([1, 512, 1, 1])
Flatten output shape:\t torch.Size([1, 512])
Linear output shape:\t torch.Size([1, 10])"""

# %% [markdown]
# 下面把书中的循环原封不动地用在笔记本03的ResNet-18上（由`resnet18()`构建），捕获它打印的内容，再与笔记逐行比较。

# %%
import contextlib
import io

import torch

from d2lresnet import resnet18

net = resnet18()
printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    X = torch.rand(size=(1, 1, 224, 224))
    for layer in net:
        X = layer(X)
        print(layer.__class__.__name__, 'output shape:\t', X.shape)

print(printed.getvalue())
lines, expected_lines = printed.getvalue().splitlines(), EXPECTED.splitlines()
assert len(lines) == len(expected_lines)
for line, expected in zip(lines, expected_lines):
    assert line == expected, (line, expected)

# %% [markdown]
# ## 输出大小的公式
#
# 大小为$k$的卷积窗口或汇聚窗口，在填充为$p$、步幅为$s$时，把边长为$n$个像素的输入变为
#
# $$\left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1 .$$
#
# 只有步幅为2的层会改变边长；其余卷积层的步幅都是1，填充正好使边长保持不变。以224×224为例：第一个7×7卷积层得到$\lfloor(224 + 6 - 7)/2\rfloor + 1 = 112$，最大汇聚层得到$\lfloor(112 + 2 - 3)/2\rfloor + 1 = 56$，b3的第一个3×3卷积层得到$\lfloor(56 + 2 - 3)/2\rfloor + 1 = 28$，与它并行、位于跨层数据通路上的1×1卷积层得到$\lfloor(56 - 1)/2\rfloor + 1 = 28$，所以两者可以相加。下面的单元格从网络中读出每层的$k$、$s$、$p$和它接收的边长，把公式的结果与该层实际输出的边长对照，并检查只有步幅为2的层改变边长：

# %%
from torch import nn

from d2lresnet import conv_output_size, trace_leaves


def first(value):  # PyTorch stores (3, 3) for a conv, 3 for a max-pooling
    return value[0] if isinstance(value, tuple) else value


def side_by_formula(leaf):
    layer = leaf.module
    return conv_output_size(leaf.input_shape[2], first(layer.kernel_size), first(layer.stride),
                            first(layer.padding))


windows = [leaf for leaf in trace_leaves(net, (1, 1, 224, 224))
           if isinstance(leaf.module, (nn.Conv2d, nn.MaxPool2d))]
picked = [leaf for leaf in windows if leaf.path in ("0.0", "0.3", "2.0.conv1", "2.0.shortcut")]
for leaf in picked:
    print(f"{leaf.path:<13} {leaf.input_shape[2]:>4} → {side_by_formula(leaf):<4}", leaf.module)
assert [side_by_formula(leaf) for leaf in picked] == [leaf.output_shape[2] for leaf in picked]
# and only the layers with stride 2 change the side
assert all((leaf.output_shape[2] != leaf.input_shape[2]) == (first(leaf.module.stride) == 2)
           for leaf in windows)

# %% [markdown]
# ## 其他输入大小
#
# Fashion-MNIST的图像是28×28，笔记在训练时（6.4）把它们放大到96×96。`trace_shapes`不做任何计算就能得到这些形状：它在PyTorch的*meta*设备上运行网络的一个副本，meta设备上的张量只有形状、没有数据。输入为96×96时，最后一个模块b5接收6×6的输入（即b4的输出），输出3×3；如果直接用原来的28×28图像，b5只接收2×2，输出只剩一个像素。下面的单元格输出两种大小下b5接收和输出的边长，并画出96×96下的网络，标出每部分输出的形状：

# %%
from d2lresnet import trace_shapes
from d2lresnet.drawing.resnet_diagram import draw_resnet

rows = trace_shapes(net, (1, 1, 224, 224))
rows_96 = trace_shapes(net, (1, 1, 96, 96))
b5_sides = {}  # input size: (the side b5 receives, the side it puts out)
for size, trace in [(96, rows_96), (28, trace_shapes(net, (1, 1, 28, 28)))]:
    b5_sides[size] = (trace[3].shape[-1], trace[4].shape[-1])  # b4's output is b5's input
print(b5_sides)
assert b5_sides == {96: (6, 3), 28: (2, 1)}
draw_resnet(net, (1, 1, 96, 96))

# %% [markdown]
# 从b1到b5，边长一共减半5次（7×7卷积层、最大汇聚层、b3、b4、b5），所以b5输出的边长是输入的$1/2^5 = 1/32$（它接收的边长是输入的1/16）：输入为32×32时，b5只输出一个像素。无论输入多大，全局平均汇聚层都留下512个数，所以同一个最后的`Linear(512, 10)`适用于任何输入大小。下面在滑块提供的每个大小上检验，输出的字典给出每个输入大小下b5输出的边长：

# %%
with torch.device("meta"):
    meta_net = resnet18()
sizes = range(32, 513, 32)
traces = {size: trace_shapes(meta_net, (1, 1, size, size)) for size in sizes}
b5_side = {size: trace[4].shape[-1] for size, trace in traces.items()}  # b5's output
assert all(b5_side[size] == size // 32 and traces[size][3].shape[-1] == size // 16
           for size in sizes)
assert all(trace[5].shape == (1, 512, 1, 1) and trace[-1].shape == (1, 10)
           for trace in traces.values())
print(b5_side)

# %% [markdown]
# 试一试：滑块会重新运行同样的形状追踪（在meta设备上，所以是瞬时的），并重画表格、架构图以及分辨率与通道数的关系图。

# %%
from d2lresnet.widgets import plot_resolution_and_channels, trace_widget

trace_widget()

# %% [markdown]
# ## 分辨率与通道数
#
# 从b3开始，每个模块都把高和宽减半、通道数翻倍。对b2到b5来说，这带来两个结果：激活值的数量逐级减半（$2 \times \tfrac14$）；而从$c$个通道到$c$个通道的3×3卷积层，计算量与$c^2 \times h \times w$成正比，保持不变。下图画出224×224和96×96下分辨率降低、通道数量增加的过程（对数坐标，每次减半或翻倍都是相等的一步）：

# %%
import matplotlib.pyplot as plt

stage_shapes = [row.shape for row in rows[1:5]]  # b2..b5 at 224x224
activations = [c * h * w for _, c, h, w in stage_shapes]
conv_cost = [c * c * h * w for _, c, h, w in stage_shapes]
assert all(big == 2 * small for big, small in zip(activations, activations[1:]))
assert len(set(conv_cost)) == 1
print(activations, conv_cost)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for ax, (size, trace) in zip(axes, [(224, rows), (96, rows_96)]):
    plot_resolution_and_channels(trace, ax)
    ax.set_title(f"{size}×{size}")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 小结
#
# * ResNet-18逐行打印出笔记中的形状：b1和b2之后是56×56，然后依次是28×28、14×14、7×7，通道数为128、256、512；全局平均汇聚层之后是512个数，最后是10个输出。
# * 每个卷积层和最大汇聚层都遵循$\lfloor (n + 2p - k)/s \rfloor + 1$；5次减半把边长除以32，而全局平均汇聚层使同一个全连接层适用于任何输入大小。
# * 从b3开始，每个模块将高和宽减半、通道数翻倍，所以激活值减半，而每个3×3卷积层的计算量不变。

# %% [markdown]
# ## 练习
#
# 把答案单元中的`...`换成你的答案（一个数，或者计算它的代码）并运行，然后运行下面的检查单元：它会告诉你答得对不对，不对时给出提示。每个检查单元下面都折叠着一份解答。

# %%
from d2lresnet import exercises

# %% [markdown]
# **练习1**：前面检查b5输出的单元只试了32的倍数：输入为32×32时b5只输出一个像素，输入为64×64时输出2×2。使b5输出2×2的最小正方形输入是多大？先用输出大小的公式推出来，再用`trace_shapes(meta_net, (1, 1, size, size))[4]`（b5的输出）验证你的答案。答案是一个整数：输入的边长。

# %%
answer_4_1 = ...  # your answer · 你的答案

# %%
exercises.check("04.1", answer_4_1)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
# With these kernels and paddings each of the five stride-2 layers turns a side n into
# ceil(n / 2), so b5 puts out ceil(n / 32): 1 up to 32, then 2.
solution_4_1 = 32 + 1
assert [trace_shapes(meta_net, (1, 1, size, size))[4].shape[-1] for size in (32, 33)] == [1, 2]
assert exercises.check("04.1", solution_4_1)

# %% [markdown]
# **练习2**：输入为100×100时，b5输出的边长是多少？逐层使用输出大小的公式，手算或者用`conv_output_size`。答案是一个整数：b5输出的边长。

# %%
answer_4_2 = ...  # your answer · 你的答案

# %%
exercises.check("04.2", answer_4_2)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
side = 100
for kernel, stride, padding in [(7, 2, 3), (3, 2, 1), (3, 2, 1), (3, 2, 1), (3, 2, 1)]:
    side = conv_output_size(side, kernel, stride, padding)  # stem conv, max-pool, b3, b4, b5
solution_4_2 = side
assert exercises.check("04.2", solution_4_2)

# %% [markdown]
# ## 更进一步
#
# ### 每个模块的计算量
#
# 卷积层对每个输出像素的每个权重做一次乘法和一次加法，共$2 k^2 c_\text{in} c_\text{out} h w$次浮点运算。以这样一个3×3卷积层的计算量为单位$U$：它在b2到b5各自的分辨率上把$c$个通道变换为$c$个通道（前面已经看到，$U$在每个模块中都相同）。用这个单位列出每个模块的卷积层：
#
# * b2：4个从64到64个通道的3×3卷积层，共$4U$；
# * b3、b4、b5：第一个3×3卷积层只输入$c/2$个通道（$\tfrac12 U$），跨层数据通路上从$c/2$到$c$个通道的1×1卷积层的窗口只有它的九分之一（$\tfrac1{18} U$），后面还有3个完整的3×3卷积层：共$3 + \tfrac12 + \tfrac1{18} = \tfrac{32}{9} U$。
#
# 所以b3、b4、b5的计算量完全相同，b2是它们的$4 / \tfrac{32}{9} = \tfrac98$倍，即多八分之一。下面由追踪得到的形状算出每个模块各卷积层的计算量（以$U$为单位，按调用顺序：conv1、conv2、shortcut，然后是第二个残差块），以及每个模块的GFLOP。这就是为什么b5拥有四分之三的权重（见笔记本03），计算量却与b3、b4完全相同，并且比b2少。

# %%
from fractions import Fraction


def conv_flops(leaf):  # one multiply and one add per weight per output pixel
    conv = leaf.module
    k_h, k_w = conv.kernel_size
    _, c_out, h, w = leaf.output_shape
    return 2 * k_h * k_w * (conv.in_channels // conv.groups) * c_out * h * w


stage_inputs = [row.shape for row in rows[:4]]  # what b2..b5 receive
_, c, h, w = stage_shapes[0]
unit = 2 * 3 * 3 * c * c * h * w  # U, the same for every stage (conv_cost above)
in_units, gflop = {}, {}
for name, stage, shape in zip(["b2", "b3", "b4", "b5"], net[1:5], stage_inputs):
    convs = [leaf for leaf in trace_leaves(stage, shape) if isinstance(leaf.module, nn.Conv2d)]
    in_units[name] = [str(Fraction(conv_flops(leaf), unit)) for leaf in convs]
    gflop[name] = round(sum(conv_flops(leaf) for leaf in convs) / 1e9, 3)

assert [sum(map(Fraction, units)) for units in in_units.values()] == [4] + [Fraction(32, 9)] * 3
print(gflop)
in_units
