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
# 笔记中写道：“虽然ResNet的主体架构跟GoogLeNet类似，但ResNet架构更简单，修改也更方便。”本笔记本用一张表构建出ResNet论文表1中的整个家族，分别在GoogLeNet和ResNet中改动一个数，然后完成书中的五道练习。这里不训练网络：在默认预设下，双核CPU上“全部运行”（Run All）约需15秒。

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
                       count_parameters, display_name, exercises, resnet)
from d2lresnet.experiments.family import family_table, format_family_table
from d2lresnet.model import STAGE_WIDTHS

# %% [markdown]
# ## 由一张表得到的ResNet家族
#
# `ARCHITECTURES`把整个家族列在一张表中：每个成员用哪种残差块、每个模块有几个残差块；其余部分都是共用的。`family_table`按笔记的方式（1个输入通道，10个类别）构建每个成员；`gmacs_96`是一张96×96图像前向传播一次的乘加次数（以十亿计），`top1`是torchvision公布的ImageNet精度。单元格检查：ResNet-34的参数数量和计算量都约为ResNet-18的两倍，而ResNet-50更深，计算量却只比ResNet-34多一点（归功于瓶颈结构，见练习3）；然后输出相邻两个成员之间改动了什么。

# %%
rows = family_table()
print(format_family_table(rows, ["model", "block", "depths", "layers", "params", "gmacs_96",
                                  "top1"]), end="\n\n")
r18, r34, r50 = rows[:3]
assert 1.8 < r34["params"] / r18["params"] < 2.1 and 1.8 < r34["gmacs_96"] / r18["gmacs_96"] < 2.1
assert r50["layers"] > r34["layers"] and r50["gmacs_96"] / r34["gmacs_96"] < 1.2
for a, b in [("resnet18", "resnet34"), ("resnet34", "resnet50"), ("resnet50", "resnext50_32x4d")]:
    (block_a, depths_a), (block_b, depths_b) = ARCHITECTURES[a], ARCHITECTURES[b]
    if depths_a != depths_b:
        print(i18n.tr("family_new_depths", a=display_name(a), b=display_name(b),
                      old=depths_a, new=depths_b))
    if block_a is not block_b:
        print(i18n.tr("family_new_block", a=display_name(a), b=display_name(b),
                      old=block_a.__name__, new=block_b.__name__))

# %% [markdown]
# ### 修改比GoogLeNet更方便
#
# GoogLeNet由9个Inception块堆叠而成（见D2L的“含并行连结的网络（GoogLeNet）”一节），每个块有4条并行路径和6个手工选定的通道数。各路径的输出在通道维上连结，所以一个块输出的通道数是各路径之和，下一个块必须按这个和来构建。ResNet的每个模块只需要两个数：通道数和残差块数。单元格把一条Inception路径加宽1个通道，再把ResNet-18的b3加宽1个通道：

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


def first_misfit(table):
    """Runs the blocks one after the other (shapes only, on the meta device); returns the
    first block that cannot take what the block before put out, or None if all fit."""
    x = torch.empty(1, table[0][0], 7, 7, device="meta")
    for number, args in enumerate(table, start=1):
        with torch.device("meta"):
            block = Inception(*args)
        try:
            x = block(x)
        except RuntimeError:  # a convolution given the wrong number of channels
            return dict(block=number, got=x.shape[1], built_for=args[0])


one_off = [GOOGLENET[0][:4] + (GOOGLENET[0][4] + 1,)] + GOOGLENET[1:]  # b3's pool path: 33
with torch.device("meta"):
    wider = resnet(stage_widths=(64, 129, 256, 512))  # b3 one channel wider
assert first_misfit(GOOGLENET) is None and first_misfit(one_off) is not None
assert wider(torch.empty(1, 1, 96, 96, device="meta")).shape == (1, 10)  # b4 takes b3's width
print(i18n.tr("inception_misfit", **first_misfit(one_off)))
hand_chosen = sum(isinstance(m, nn.Conv2d) for args in GOOGLENET for m in Inception(*args).modules())
print(i18n.tr("numbers_by_hand", inception=hand_chosen,
              resnet=len(STAGE_WIDTHS) + len(ARCHITECTURES["resnet18"][1])))

# %% [markdown]
# ## 练习
#
# 书中的五道练习各附一个可以检查的问题：把答案单元格中的`...`换成你的答案，运行它和下面的检查单元格；答错时会给出提示。之后是解答和参考答案。
#
# ### 练习1：Inception块与残差块
#
# **Inception块与残差块之间的主要区别是什么？在删除了Inception块中的一些路径之后，它们是如何相互关联的？**
#
# **检验一下。** `Inception(192, 64, (96, 128), (16, 32), 32)`作用于192个通道的输入时，输出多少个通道？用一个整数作答。

# %%
answer_7_1 = ...  # your answer · 你的答案

# %%
exercises.check("07.1", answer_7_1)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
solution_7_1 = 64 + 128 + 32 + 32  # the four paths' last layers, concatenated
assert exercises.check("07.1", solution_7_1)

# %% [markdown] tags=["solution"]
# **参考答案。** Inception块把各条路径的输出**连结**起来；残差块则把残差分支的输出与输入**相加**。残差分支输出0时，残差块就让输入原样通过（见笔记本02）；Inception块没有传递输入本身的路径，恒等映射只能靠学习。只保留Inception块中先1×1、后3×3卷积层的那条路径，在末尾加一个1×1卷积层把通道数变回输入的通道数，再与输入相加：这就是练习3中的瓶颈残差块。保留多条相同的路径，再与输入相加：这就是ResNeXt的残差块（见笔记本08）。

# %% [markdown]
# ### 练习2：ResNet论文表1中的变体
#
# **参考ResNet论文中的表1，以实现不同的变体。**
#
# **检验一下。** 用笔记中的`resnet(...)`构建ResNet-34：表1给出了它每个模块的残差块数。用构建好的网络（一个`nn.Module`）作答。

# %%
answer_7_2 = ...  # your answer · 你的答案

# %%
exercises.check("07.2", answer_7_2)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
solution_7_2 = resnet((3, 4, 6, 3))  # Table 1: 3, 4, 6 and 3 basic blocks per stage
assert exercises.check("07.2", solution_7_2)

# %% [markdown] tags=["solution"]
# **参考答案。** 表1中的五个网络就是上面家族表的前五行。

# %% [markdown]
# ### 练习3：更深网络的“bottleneck”架构
#
# **对于更深层次的网络，ResNet引入了“bottleneck”架构来降低模型复杂性。请试着去实现它。**
#
# **检验一下。** `Bottleneck(1024, 256)`（输入和输出都是1024个通道，中间是256个）有多少个参数？用一个整数作答，计入所有可训练的参数，包括卷积层的偏置以及批量规范化层的拉伸参数γ和偏移参数β。先手算。

# %%
answer_7_3 = ...  # your answer · 你的答案

# %%
exercises.check("07.3", answer_7_3)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
conv1 = 1024 * 256 + 256  # 1x1, 1024 -> 256 channels, with a bias per output
conv2 = 9 * 256 * 256 + 256  # 3x3, 256 -> 256
conv3 = 256 * 1024 + 1024  # 1x1, 256 -> 1024
batch_norms = 2 * (256 + 256 + 1024)  # a scale and a shift per channel
solution_7_3 = conv1 + conv2 + conv3 + batch_norms
assert exercises.check("07.3", solution_7_3)

# %% [markdown] tags=["solution"]
# **参考答案。** `Bottleneck`把两个3×3卷积层换成三个卷积层：一个1×1卷积层把通道数减为四分之一，一个3×3卷积层在减少后的通道上计算，再用一个1×1卷积层把通道数恢复。与同样宽度的基本残差块比较：

# %% tags=["solution"]
X = torch.rand(1, 256, 14, 14)  # both blocks: 256 channels in and out
cost = {}
for name, block in (("Residual(256, 256)", Residual(256, 256)),
                    ("Bottleneck(256, 64)", Bottleneck(256, 64))):
    cost[name] = count_parameters(block), count_flops(nn.Sequential(block), X.shape)
    print(i18n.tr("block_cost", block=name, params=cost[name][0], mflops=cost[name][1] / 1e6))
basic, bottleneck = cost.values()
assert basic[0] / bottleneck[0] > 15 and basic[1] / bottleneck[1] > 15

# %% [markdown] tags=["solution"]
# 瓶颈残差块的成本不到基本残差块的1/15。论文把省下来的计算用来加深和加宽网络：三层、4倍的通道数，成本却与一个基本残差块差不多，所以ResNet-50有50层，计算量却只比ResNet-34多一点。

# %% [markdown]
# ### 练习4：预激活残差块（“Identity Mappings”）
#
# **在ResNet的后续版本中，作者将“卷积层、批量规范化层和激活层”架构更改为“批量规范化层、激活层和卷积层”架构。请尝试做这个改进。详见何恺明等人（2016）中的图1。**
#
# **检验一下。** 从预激活残差块的输入到输出，输入依次经过哪些层，又在哪里相加？用由`"conv"`、`"bn"`、`"relu"`和`"add"`组成的列表作答。

# %%
answer_7_4 = ...  # your answer · 你的答案

# %%
exercises.check("07.4", answer_7_4)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
solution_7_4 = ["bn", "relu", "conv", "bn", "relu", "conv", "add"]  # nothing after the addition
assert exercises.check("07.4", solution_7_4)

# %% [markdown] tags=["solution"]
# **参考答案。** 何恺明等人（2016）把批量规范化层和ReLU移到每个卷积层之前；相加之后不再有任何层，尤其是没有ReLU：

# %% tags=["solution"]
print(inspect.getsource(PreActResidual.forward))

# %% [markdown] tags=["solution"]
# 所以整个堆叠的跨层数据通路连成一条恒等映射的通路（笔记本08沿这条通路追踪了梯度）。

# %% [markdown]
# ### 练习5：为什么要限制函数的复杂性
#
# **为什么即使函数类是嵌套的，我们仍然要限制增加函数的复杂性呢？**
#
# **检验一下。** 论文中110层的CIFAR网络（每个阶段n = 18个残差块）处理一张32×32的图像，计算量大约是20层网络（n = 3）的多少倍？用一个数作答，误差在5%以内即算正确。

# %%
answer_7_5 = ...  # your answer · 你的答案

# %%
exercises.check("07.5", answer_7_5)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
from d2lresnet.experiments.twins import cifar_resnet

shape = (1, 1, 32, 32)
solution_7_5 = count_flops(cifar_resnet(18), shape) / count_flops(cifar_resnet(3), shape)
by_blocks = (3 * 18) / (3 * 3)  # every block costs about the same
print(round(solution_7_5, 2), by_blocks)
assert exercises.check("07.5", solution_7_5) and exercises.check("07.5", by_blocks)

# %% [markdown] tags=["solution"]
# **参考答案。** 嵌套只能保证更大的函数类中**有**一个函数不比较小函数类中最好的那个差，却不能保证这个函数好找、便宜，或者能泛化：
#
# * **计算量。** 每个残差块都给训练的每一步和每一次预测增加固定的成本。
# * **过拟合。** 论文中1202层的CIFAR-10网络，测试误差比110层的还高（表6：7.93%对6.43%）。
# * **收益递减。** 从ResNet-50起，家族每往上一步，每个新增乘加换来的ImageNet精度都更少（见`top1`一列和笔记本08）。此前不然：从ResNet-34到ResNet-50是瓶颈结构带来的便宜一步，每个乘加换来的精度比从ResNet-18到ResNet-34更多。

# %% [markdown]
# ## 小结
#
# * ResNet家族就是一张表：ResNet-34改的是ResNet-18每个模块的残差块数，ResNet-50改的是残差块。ResNet每个模块的宽度都只是一个数；而把一条Inception路径加宽，就打断了手工选定的通道数之和的衔接。
# * 瓶颈结构让ResNet-50有50层，成本却与ResNet-34相近。
# * 嵌套的函数类再大也不是免费的：它要花计算，可能过拟合，换来的精度也越来越少。

# %% [markdown]
# ## 更进一步
#
# * 像笔记本05那样，用同样的训练方案和随机种子分别训练`resnet(block=PreActResidual)`和`resnet18()`，比较它们的曲线。
# * 笔记本08构建了完整的预激活ResNet-18和ResNeXt-50，测量了梯度沿堆叠的跨层数据通路的传递，并把家族各成员的ImageNet精度与计算量画在一起。
# * 按torchvision的配置（3个输入通道，1000个类别，卷积层不带偏置，跨层数据通路上的1×1卷积层之后接批量规范化层），家族每个成员的参数数量都与torchvision完全相同：

# %%
print(format_family_table(rows, ["model", "params_tv_config", "params_torchvision"]))
