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
# # ResNet家族与练习
#
# 笔记中写道：“虽然ResNet的主体架构跟GoogLeNet类似，但ResNet架构更简单，修改也更方便。”本笔记本用一张表构建出ResNet论文表1中的整个家族，与torchvision的模型和GoogLeNet的Inception块对照；然后逐题完成书中的五道练习。数字由代码单元计算，能检验的结论都用`assert`检验；论文中测得的结果（练习5）只引用，不重新运行。

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

# %%
import inspect

import torch
from torch import nn
from torch.nn import functional as F

from d2lresnet import (ARCHITECTURES, Bottleneck, PreActResidual, Residual, count_flops,
                       count_layers, count_parameters, display_name, exercises, resnet,
                       resnet_block)
from d2lresnet.experiments.family import family_table, format_family_table

# %% [markdown]
# ## 由一张表得到的ResNet家族
#
# 与torchvision一样，本模块把整个家族列在一张表`ARCHITECTURES`里：名称、残差块的种类和每个模块的残差块数；第一个模块、各模块的通道数和最后的输出部分都是共用的。`family_table`在**meta**设备上（只有形状，没有数值）构建每个成员，一次按笔记的方式（1个输入通道，10个类别），一次按torchvision的配置（3个输入通道，1000个类别，卷积层不带偏置，跨层数据通路上的1×1卷积层之后带批量规范化层），旁边是torchvision自己公布的参数数量。层数按笔记的方式数，不计跨层数据通路上的1×1卷积层；计算量是96×96输入下一次前向传播的乘加次数（GMACs；224×224下的数字见笔记本08）。ResNet-34的参数数量和计算量都约为ResNet-18的两倍；ResNet-50更深，计算量却只比ResNet-34多一点（这要归功于瓶颈结构，见练习3）。**修改更方便**：从ResNet-18到ResNet-34只改每个模块的残差块数，从ResNet-34到ResNet-50只换残差块，ResNeXt-50又换了一次残差块；单元格也从表中读出了这一点。

# %%
rows = family_table()
by_name = {row["model"]: row for row in rows}
for columns in (["model", "block", "depths", "layers", "params", "gmacs_96"],
                ["model", "params_tv_config", "params_torchvision", "top1"]):
    print(format_family_table(rows, columns), end="\n\n")
assert [row["layers"] for row in rows] == [18, 34, 50, 101, 152, 50]  # counted in the modules
for row in rows:
    assert row["params_tv_config"] == row["params_torchvision"]  # parameter for parameter
assert by_name["ResNet-18"]["params"] == 11_178_378  # the notes' ResNet-18
r18, r34, r50 = (by_name[m] for m in ("ResNet-18", "ResNet-34", "ResNet-50"))
assert 1.8 < r34["params"] / r18["params"] < 2.1 and 1.8 < r34["gmacs_96"] / r18["gmacs_96"] < 2.1
assert r50["gmacs_96"] / r34["gmacs_96"] < 1.2 and r50["layers"] > r34["layers"]
steps = [("resnet18", "resnet34"), ("resnet34", "resnet50"), ("resnet50", "resnext50_32x4d")]
changed = [[field for field, x, y in zip(("block", "depths"), ARCHITECTURES[a], ARCHITECTURES[b])
            if x != y] for a, b in steps]  # which part of the entry differs
for (a, b), fields in zip(steps, changed):
    print(f"{display_name(a)} -> {display_name(b)}: {fields}", ARCHITECTURES[b][0].__name__,
          ARCHITECTURES[b][1])
assert changed == [["depths"], ["block"], ["block"]]

# %% [markdown]
# ### 修改更方便：改表中的一项，对照一个Inception块
#
# GoogLeNet由Inception块组成（见D2L的“含并行连结的网络（GoogLeNet）”一节）：每个块有4条并行路径、6个卷积层，它们的输出通道数都要手工选定，一共9个块。各路径的输出在通道维上连结，所以一个块的输出通道数是各路径之和，而且必须等于下一个块的输入通道数，这也要靠设计者手工保证。ResNet的一个模块只需要两个数：通道数和残差块数；模块中所有卷积层（包括跨层数据通路上的1×1卷积层）都用这一个通道数。下面是D2L中的Inception块和GoogLeNet的9组通道数；单元格先把9个块依次连起来运行，再把其中一条路径的通道数改动1，重新运行一次：

# %%
class Inception(nn.Module):
    # D2L's Inception block; c1--c4 are the output channels of the four paths
    def __init__(self, in_channels, c1, c2, c3, c4):
        super().__init__()
        self.p1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.p2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.p3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)

    def forward(self, x):
        p1 = F.relu(self.p1_1(x))
        p2 = F.relu(self.p2_2(F.relu(self.p2_1(x))))
        p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))
        p4 = F.relu(self.p4_2(self.p4_1(x)))
        return torch.cat((p1, p2, p3, p4), dim=1)


GOOGLENET = [(192, 64, (96, 128), (16, 32), 32), (256, 128, (128, 192), (32, 96), 64),  # b3
             (480, 192, (96, 208), (16, 48), 64), (512, 160, (112, 224), (24, 64), 64),  # b4
             (512, 128, (128, 256), (24, 64), 64), (512, 112, (144, 288), (32, 64), 64),
             (528, 256, (160, 320), (32, 128), 128),
             (832, 256, (160, 320), (32, 128), 128), (832, 384, (192, 384), (48, 128), 128)]  # b5


def channel_choices(module):  # the output channels of each of its convolutions
    return [m.out_channels for m in module.modules() if isinstance(m, nn.Conv2d)]


def run_in_a_row(table):
    """The blocks one after the other (shapes only); the error if one does not fit the next."""
    with torch.device("meta"):
        try:
            nn.Sequential(*(Inception(*args) for args in table))(torch.empty(1, 192, 7, 7))
        except RuntimeError as error:
            return str(error).splitlines()[0]


one_off = [GOOGLENET[0][:4] + (GOOGLENET[0][4] + 1,)] + GOOGLENET[1:]  # b3's pool path: 33
assert run_in_a_row(GOOGLENET) is None and run_in_a_row(one_off) is not None
print(run_in_a_row(one_off))
inception_numbers = [channel_choices(Inception(*args)) for args in GOOGLENET]
stage = nn.Sequential(*resnet_block(64, 128, 2))  # ResNet-18's b3: 128 channels, 2 blocks
assert set(channel_choices(stage)) == {128}  # one width for all its convolutions
print(sum(map(len, inception_numbers)), "numbers chosen by hand:", inception_numbers[:2], "...")

# %% [markdown]
# ## 练习
#
# 书中的五道练习，每道附一个可以检查的问题：把答案单元中的`...`换成你的答案，运行它和下面的检查单元（答错时给出提示，但不给出答案）。每个检查单元下面折叠着一份解答，之后是参考答案。
#
# ### 练习1：Inception块与残差块
#
# **Inception块与残差块之间的主要区别是什么？在删除了Inception块中的一些路径之后，它们是如何相互关联的？**
#
# **检验一下。** `Inception(192, 64, (96, 128), (16, 32), 32)`作用于192个通道的输入时，输出多少个通道？（不含1×1卷积层的残差块输出的通道数与输入相同。）

# %%
answer_7_1 = ...  # your answer

# %%
exercises.check("07.1", answer_7_1)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
inception = Inception(192, 64, (96, 128), (16, 32), 32)
answer_7_1 = 64 + 128 + 32 + 32  # the four paths' last layers, concatenated
assert inception(torch.rand(1, 192, 28, 28)).shape[1] == answer_7_1
assert exercises.check("07.1", answer_7_1)

# %% [markdown]
# **参考答案。**
#
# * **路径如何合并。** Inception块把各条路径（1×1、3×3、5×5卷积层和一个最大汇聚层）的输出**连结**起来；残差块则把残差映射（两个3×3卷积层）的输出与输入本身**相加**。
# * **Inception块没有恒等映射的路径。** 要让输入原样通过，Inception块只能靠学习；残差块只要残差映射输出0就能做到。按笔记的做法（“将上方加权运算的权重和偏置参数设成0”），分别作用于Inception块每条路径的最后一层和残差映射的最后一层（`bn2`）：

# %%
inception, residual = Inception(192, 64, (96, 128), (16, 32), 32), Residual(192, 192)
paths = (inception.p1_1, inception.p2_2, inception.p3_2, inception.p4_2)  # each path's last
with torch.no_grad():
    for last in paths:
        last.weight.zero_(), last.bias.zero_()
residual.zero_init_().eval()  # bn2's scale and shift at zero
X = torch.rand(2, 192, 28, 28)  # non-negative, like the output of a ReLU
assert inception(X).shape[1] == sum(p.out_channels for p in paths) != X.shape[1]
assert torch.count_nonzero(inception(X)) == 0  # the input is lost
assert torch.equal(residual(X), X)  # the input passes through

# %% [markdown]
# **删除一些路径之后。** 只保留Inception块的第二条路径（先1×1卷积层，再3×3卷积层），在末尾加一个1×1卷积层把通道数变回输入的通道数，再与输入相加：这就是练习3中的瓶颈残差块。保留多条相同的路径，再与输入相加：这就是ResNeXt的残差块（见笔记本08）。
#
# ### 练习2：ResNet论文表1中的变体
#
# **参考ResNet论文中的表1，以实现不同的变体。**
#
# **检验一下。** 用笔记中的`resnet(...)`构建ResNet-34：表1给出了它每个模块的残差块数。用这个网络作答。

# %%
answer_7_2 = ...  # your answer

# %%
exercises.check("07.2", answer_7_2)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
answer_7_2 = resnet((3, 4, 6, 3))  # Table 1: 3, 4, 6 and 3 basic blocks per stage
assert count_layers(answer_7_2) == 1 + 2 * (3 + 4 + 6 + 3) + 1
assert exercises.check("07.2", answer_7_2)

# %% [markdown]
# **参考答案。** 表1中的五个网络就是上面家族表中的前五行，各占`ARCHITECTURES`中的一项，参数数量都与torchvision一致（笔记本08把它们的计算量与表1核对）。
#
# ### 练习3：更深网络的“bottleneck”架构
#
# **对于更深层次的网络，ResNet引入了“bottleneck”架构来降低模型复杂性。请试着去实现它。**
#
# **检验一下。** `Bottleneck(1024, 256)`（ResNet-50的b4中的残差块：输入和输出都是1024个通道，中间是256个）有多少个参数？先手算。

# %%
answer_7_3 = ...  # your answer

# %%
exercises.check("07.3", answer_7_3)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
conv1 = 1024 * 256 + 256  # 1x1, 1024 -> 256 channels, with a bias per output
conv2 = 9 * 256 * 256 + 256  # 3x3, 256 -> 256
conv3 = 256 * 1024 + 1024  # 1x1, 256 -> 1024
batch_norms = 2 * (256 + 256 + 1024)  # a scale and a shift per channel
answer_7_3 = conv1 + conv2 + conv3 + batch_norms
assert answer_7_3 == count_parameters(Bottleneck(1024, 256))
assert exercises.check("07.3", answer_7_3)

# %% [markdown]
# **参考答案。** `Bottleneck`把两个3×3卷积层换成三个卷积层：一个1×1卷积层把通道数减为四分之一，一个3×3卷积层在减少后的通道上计算，再用一个1×1卷积层把通道数恢复。在相同的宽度下（输入和输出都是256个通道，正是ResNet-50第一个模块在残差块之间传递的通道数），与基本残差块比较：

# %%
def size_and_cost(block, input_shape):
    """Parameters and forward MFLOPs of one block."""
    return count_parameters(block), count_flops(nn.Sequential(block), input_shape) / 1e6


X = torch.rand(1, 256, 14, 14)
assert Bottleneck(256, 64)(X).shape == Residual(256, 256)(X).shape == X.shape
basic, bottleneck = (size_and_cost(b, X.shape) for b in (Residual(256, 256), Bottleneck(256, 64)))
print({"Residual(256, 256)": basic, "Bottleneck(256, 64)": bottleneck})
assert basic[0] / bottleneck[0] > 15 and basic[1] / bottleneck[1] > 15

# %% [markdown]
# 通道数相同时，瓶颈残差块的成本不到基本残差块的1/15。论文把省下来的计算用来加深网络：基本残差块有两层，瓶颈残差块有三层，通道数是它的4倍，成本却差不多。所以ResNet-50有50层，计算量却只比ResNet-34多一点（见家族表的`gmacs_96`一列）。
#
# ### 练习4：预激活残差块（“Identity Mappings”）
#
# **在ResNet的后续版本中，作者将“卷积层、批量规范化层和激活层”架构更改为“批量规范化层、激活层和卷积层”架构。请尝试做这个改进。详见He等（2016）中的图1。**
#
# **检验一下。** 在预激活残差块的残差映射中，输入依次经过哪些层？用由`"conv"`、`"bn"`和`"relu"`组成的列表作答。

# %%
answer_7_4 = ...  # your answer

# %%
exercises.check("07.4", answer_7_4)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
answer_7_4 = ["bn", "relu", "conv", "bn", "relu", "conv"]  # each conv after its BN and ReLU
assert exercises.check("07.4", answer_7_4)

# %% [markdown]
# **参考答案。** He等（2016）把批量规范化层和ReLU移到每个卷积层之前；相加之后不再有任何层，尤其是没有ReLU：

# %%
print(inspect.getsource(PreActResidual.forward))

# %% [markdown]
# 相加之后什么也没有，整个堆叠的跨层数据通路就连成一条恒等映射的通路：笔记本08测量了梯度经过64个两种残差块之后有多少原样到达，并构建了完整的预激活ResNet-18。**自己试一试：** 像笔记本05那样分别训练`resnet(block=PreActResidual)`和`resnet18()`，比较结果。
#
# ### 练习5：为什么要限制函数的复杂性
#
# **为什么即使函数类是嵌套的，我们仍然要限制增加函数的复杂性呢？**
#
# **检验一下。** 论文中110层的CIFAR网络（每个阶段n = 18个残差块）处理一张32×32的图像，计算量大约是20层网络（n = 3）的多少倍？误差在5%以内即算正确。

# %%
answer_7_5 = ...  # your answer

# %%
exercises.check("07.5", answer_7_5)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
from d2lresnet.experiments.twins import cifar_resnet

shape = (1, 1, 32, 32)
answer_7_5 = count_flops(cifar_resnet(18), shape) / count_flops(cifar_resnet(3), shape)
by_blocks = (3 * 18) / (3 * 3)  # every block costs about the same
print(f"{answer_7_5:.2f}, counting blocks: {by_blocks:.0f}")
assert exercises.check("07.5", answer_7_5) and exercises.check("07.5", by_blocks)

# %% [markdown]
# **参考答案。** 嵌套只能保证：更大的函数类里**有**一个函数，不比较小函数类中最好的那个差。至于这个函数好不好找、运行起来贵不贵、能不能泛化，嵌套都不管：
#
# * **计算量。** 每个残差块都增加固定的成本，训练的每一步和每一次预测都随深度变慢。
# * **过拟合。** 更大的函数类中有更多只拟合训练数据、却不拟合测试数据的函数：论文中1202层的CIFAR-10网络，测试误差比110层的还高（表6：7.93%对6.43%，这里没有运行）。
# * **收益递减。** 模型每变大一步，换来的精度就更少。
#
# 笔记本08测量了第一点和第三点：论文中CIFAR网络的成本随深度沿直线增长；从ResNet-50起，每多一个GMAC换来的ImageNet精度越来越少。
#
# ## 小结
#
# * ResNet家族就是一张表：从ResNet-18到ResNet-34改的是每个模块的残差块数，到ResNet-50改的是残差块；每个成员的参数数量都与torchvision一致。而GoogLeNet的每个Inception块需要手工选定6个通道数，它们的和还必须前后衔接。
# * 瓶颈残差块的成本不到同样宽度的基本残差块的1/15：ResNet-50有50层，成本却与ResNet-34相近。
# * 使用预激活时，相加之后什么也没有，所以整个堆叠的跨层数据通路连成一条恒等映射的通路（笔记本08测量了沿这条通路的梯度）。
# * 嵌套的函数类再大也不是免费的：它要花计算，可能过拟合，换来的精度也越来越少。
