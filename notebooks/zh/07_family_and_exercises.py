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
# # ResNet家族与练习
#
# 笔记中写道：“虽然ResNet的主体架构跟GoogLeNet类似，但ResNet架构更简单，修改也更方便。”本笔记本用一张表构建出ResNet论文表1中的整个家族，与torchvision的模型逐一对照，并数一数GoogLeNet的Inception块需要设计者手工选定多少个数；接着介绍ResNeXt（D2L英文版在同一节中介绍了它）；最后逐题完成书中的五道练习。每个结论都由代码单元计算得出，并用`assert`检验。

# %%
import inspect

import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.nn import functional as F

from d2lresnet import (ARCHITECTURES, Bottleneck, PreActResidual, ResNeXtBottleneck, Residual,
                       architecture, count_flops, count_layers, count_parameters, display_name,
                       resnet, resnet18, resnet_block)
from d2lresnet.experiments.family import family_table, format_family_table
from d2lresnet.i18n import label
from d2lresnet.experiments.twins import cifar_resnet, depth_to_n

# %% [markdown]
# ## 由一张表得到的ResNet家族
#
# 与torchvision一样，本模块把整个家族列在一张表`ARCHITECTURES`里：名称、残差块的种类和每个模块的残差块数；第一个模块、各模块的通道数（64、128、256、512）和最后的输出部分都是共用的。`family_table`按笔记的方式（1个输入通道，10个类别）和torchvision的配置（3个输入通道，1000个类别，卷积层不带偏置，跨层数据通路上的1×1卷积层之后带批量规范化层）分别构建每个成员，而且是在*meta*设备上构建：只有形状，没有数值，所以即使是ResNet-152也几乎不花时间。层数按笔记的方式数：跨层数据通路上的1×1卷积层是可学习的投影，但不在主路径上，所以不计入层数。表中还列出参数数量，以及一次前向传播的乘加次数（GMACs，分别在笔记的96×96输入和ImageNet的224×224输入上计算），旁边是torchvision在其元数据中公布的数字（无须下载任何东西）。可以看到，ResNet-34的参数数量和计算量都约为ResNet-18的两倍；ResNet-50更深，计算量却只比ResNet-34多一点（这要归功于瓶颈结构，见练习3）。最后一行ResNeXt-50稍后介绍。这张表只计算一次，整个笔记本都用它。

# %%
rows = family_table()
by_name = {row["model"]: row for row in rows}
for columns in (["model", "block", "depths", "layers", "params", "gmacs_96"],
                ["model", "params_tv_config", "params_torchvision", "top1"],
                ["model", "gmacs_224", "gmacs_torchvision"]):
    print(format_family_table(rows, columns), end="\n\n")
assert [row["layers"] for row in rows] == [18, 34, 50, 101, 152, 50]  # counted in the modules
for row in rows:
    assert row["params_tv_config"] == row["params_torchvision"]  # parameter for parameter
    assert abs(row["gmacs_224"] / row["gmacs_torchvision"] - 1) < 0.01
assert by_name["ResNet-18"]["params"] == 11_178_378  # the notes' ResNet-18
r18, r34, r50 = (by_name[m] for m in ("ResNet-18", "ResNet-34", "ResNet-50"))
assert 1.8 < r34["params"] / r18["params"] < 2.1
assert 1.8 < r34["gmacs_96"] / r18["gmacs_96"] < 2.1
assert r50["gmacs_96"] / r34["gmacs_96"] < 1.2 and r50["layers"] > r34["layers"]

# %% [markdown]
# ### 修改更方便：改表中的一项，对照一个Inception块
#
# 从ResNet-18到ResNet-34，只改变了每个模块的残差块数；从ResNet-34到ResNet-50，只换了残差块；ResNeXt-50又换了一次残差块。直接从表中读出来：

# %%
steps = [("resnet18", "resnet34"), ("resnet34", "resnet50"), ("resnet50", "resnext50_32x4d")]
changed = [[field for field, x, y in zip(("block", "depths"), ARCHITECTURES[a], ARCHITECTURES[b])
            if x != y] for a, b in steps]  # which part of the entry differs
for (a, b), fields in zip(steps, changed):
    print(f"{display_name(a)} -> {display_name(b)}: {fields}", ARCHITECTURES[b][0].__name__,
          ARCHITECTURES[b][1])
assert changed == [["depths"], ["block"], ["block"]]

# %% [markdown]
# GoogLeNet由Inception块组成（见D2L的“含并行连结的网络（GoogLeNet）”一节）：每个块有4条并行路径、6个卷积层，它们的输出通道数都要手工选定，一共有9个这样的块。各路径的输出在通道维度上连结，所以一个块的输出通道数是各路径通道数之和，而且必须等于下一个块的输入通道数：这同样要靠设计者手工保证。ResNet的一个模块只需要两个数：通道数和残差块数；模块中所有卷积层（包括跨层数据通路上的1×1卷积层）都使用这一个通道数。下面是D2L中的Inception块，以及GoogLeNet的9组通道数：

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


def channel_choices(module):
    """The output channels of each of its convolutions, in order."""
    return [m.out_channels for m in module.modules() if isinstance(m, nn.Conv2d)]


with torch.device("meta"):  # shapes only
    inceptions = [Inception(*args) for args in GOOGLENET]
    outputs = [blk(torch.empty(1, blk.p1_1.in_channels, 7, 7)).shape[1] for blk in inceptions]
inputs = [blk.p1_1.in_channels for blk in inceptions]
assert outputs[:-1] == inputs[1:] and outputs[-1] == 1024  # each block feeds the next
inception_numbers = [channel_choices(blk) for blk in inceptions]
stage = nn.Sequential(*resnet_block(64, 128, 2))  # ResNet-18's b3: 128 channels, 2 blocks
assert set(channel_choices(stage)) == {128}  # one width for all its convolutions
print(len(inceptions), "x", len(inception_numbers[0]), "=", sum(map(len, inception_numbers)),
      inception_numbers[:2], "...")

# %% [markdown]
# ## ResNeXt：分组卷积
#
# D2L英文版在这一节（*Residual Networks (ResNet) and ResNeXt*）中还介绍了ResNeXt（Xie等，2017）。它保留了Inception的多条并行路径，但让所有路径都一样，因此不必为每条路径单独选定通道数。这些路径合起来就是*分组卷积*：把$c_i$个输入通道分成$g$组，每组$c_i/g$个通道；每组只用本组的输入，算出本组的$c_o/g$个输出通道。这相当于$g$个并排的独立卷积：

# %%
X = torch.randn(1, 256, 14, 14)
grouped = nn.Conv2d(256, 256, kernel_size=3, padding=1, groups=32)
parts = [F.conv2d(x, w, b, padding=1) for x, w, b in
         zip(X.chunk(32, dim=1), grouped.weight.chunk(32), grouped.bias.chunk(32))]
assert torch.allclose(grouped(X), torch.cat(parts, dim=1), atol=1e-5)

# %% [markdown]
# 因此计算成本从$\mathcal{O}(c_i c_o)$降到$\mathcal{O}(g \cdot \frac{c_i}{g} \cdot \frac{c_o}{g}) = \mathcal{O}(c_i c_o / g)$：参数数量和乘加次数都减少为原来的$1/g$。以这个3×3卷积层（不带偏置，输入和输出都是256个通道，14×14）为例数一数：

# %%
cost = []
for g in (1, 2, 4, 8, 16, 32):
    conv = nn.Conv2d(256, 256, kernel_size=3, padding=1, groups=g, bias=False)
    cost.append(dict(groups=g, params=count_parameters(conv),
                     mmacs=count_flops(nn.Sequential(conv), X.shape) / 2e6))
print(format_family_table(cost))
for row in cost:
    assert row["params"] == row["groups"] * (256 // row["groups"]) ** 2 * 3 * 3
    assert row["params"] * row["groups"] == cost[0]["params"]  # 1/g of the full convolution
    assert abs(row["mmacs"] * row["groups"] / cost[0]["mmacs"] - 1) < 1e-9

# %% [markdown]
# ResNeXt把省下的计算量用来加宽网络。`Bottleneck`与torchvision的实现一样，接受`groups`和`width_per_group`两个参数：3×3卷积层每组的通道数是`num_channels * width_per_group / 64`。ResNeXt-50（32x4d）有32组，每64个通道对应每组4个通道；所以在第一个模块中，ResNet-50的3×3卷积层处理64个通道，ResNeXt的则处理128个通道，成本却差不多：

# %%
resnet_block_b2, resnext_block_b2 = Bottleneck(256, 64), ResNeXtBottleneck(256, 64)
print(resnext_block_b2.conv2)
assert resnext_block_b2.conv2.in_channels == 2 * resnet_block_b2.conv2.in_channels == 128
assert abs(count_parameters(resnext_block_b2) / count_parameters(resnet_block_b2) - 1) < 0.02

# %% [markdown]
# 用这个残差块加上ResNet-50的各模块，ResNeXt-50就是`ARCHITECTURES`中的又一项，也就是上表的最后一行。在torchvision的配置下，它的参数数量与torchvision的`resnext50_32x4d`完全相同，计算量与ResNet-50相当，而torchvision公布的权重在ImageNet上的top-1精度高出1.5个百分点：

# %%
resnext = by_name["ResNeXt-50 (32x4d)"]
print(format_family_table([r50, resnext], ["model", "params_tv_config",
                                           "params_torchvision", "gmacs_224", "top1"]))
assert resnext["params_tv_config"] == resnext["params_torchvision"] == 25_028_904
assert resnext["params_tv_config"] < r50["params_tv_config"]
assert abs(resnext["gmacs_224"] / r50["gmacs_224"] - 1) < 0.05
assert resnext["top1"] - r50["top1"] > 1

# %% [markdown]
# ## 练习
#
# ### 练习1：Inception块与残差块
#
# *Inception块与残差块之间的主要区别是什么？在删除了Inception块中的一些路径之后，它们是如何相互关联的？*
#
# * **路径如何合并。** Inception块把各路径的输出*连结*起来：输出通道数是各路径通道数之和。残差块把残差映射的输出与输入*相加*：两者的形状必须相同。
# * **路径是什么。** Inception块并排运行1×1、3×3、5×5卷积层和一个最大汇聚层。残差块只有一条由两个3×3卷积层组成的路径，另一条路径就是*输入本身*。
# * **Inception块没有恒等映射的路径。** Inception块的每条路径都会变换输入，要让输入原样通过只能靠*学习*；而残差块只要残差映射输出0就能做到。把两者的权重都设为0：

# %%
inception, residual = Inception(192, 64, (96, 128), (16, 32), 32), Residual(192, 192)
with torch.no_grad():
    for p in inception.parameters():
        p.zero_()
residual.zero_init_().eval()
X = torch.rand(2, 192, 28, 28)  # non-negative, like the output of a ReLU
paths = (inception.p1_1, inception.p2_2, inception.p3_2, inception.p4_2)
assert inception(X).shape[1] == sum(p.out_channels for p in paths) != X.shape[1]
assert torch.count_nonzero(inception(X)) == 0  # weights at zero: the input is lost
assert torch.equal(residual(X), X)  # branch at zero: the input passes through

# %% [markdown]
# *删除一些路径之后。* 只保留Inception块的第二条路径（先1×1卷积层，再3×3卷积层），在末尾加一个1×1卷积层把通道数变回输入的通道数，再把连结换成与输入相加：这就是练习3中的瓶颈残差块。反过来，保留多条路径、让它们都一样，再与输入相加：这就是ResNeXt的残差块。残差块本身则是一个只有两条路径（残差映射和恒等映射）、以相加来合并的块。
#
# ### 练习2：ResNet论文表1中的变体
#
# *参考ResNet论文中的表1，以实现不同的变体。*
#
# 表1中的五个网络就是上面家族表的前五行，它们的层数、参数数量和乘加次数都与torchvision一致。剩下要检验的是表1自己的“FLOPs”一行（论文中的FLOPs指的是乘加次数）：

# %%
table1_gmacs = {"ResNet-18": 1.8, "ResNet-34": 3.6, "ResNet-50": 3.8, "ResNet-101": 7.6,
                "ResNet-152": 11.3}  # He et al. 2015, Table 1, "FLOPs" (x 10^9)
table1 = [dict(row, table1=table1_gmacs[row["model"]],
               ours_over_table1=row["gmacs_224"] / table1_gmacs[row["model"]])
          for row in rows if row["model"] in table1_gmacs]
print(format_family_table(table1, ["model", "gmacs_224", "table1", "ours_over_table1"]))
for row in table1[:2]:  # ResNet-18 and ResNet-34
    assert abs(row["ours_over_table1"] - 1) < 0.025  # Table 1 rounds to 0.1
assert 0.05 < table1[2]["ours_over_table1"] - 1 < 0.1  # ResNet-50

# %% [markdown]
# 两个由基本残差块组成的网络与表1一致，但ResNet-50明显高于论文中的3.8，原因在于步幅放在哪一层。论文中步幅为2的瓶颈残差块在第一个1×1卷积层上把分辨率减半；torchvision（以及我们的`Bottleneck`）把步幅移到了3×3卷积层上（即“ResNet v1.5”，精度略高），于是这个1×1卷积层要在4倍的面积上计算。把步幅移回去，就得到论文中的数字：

# %%
for row in table1[2:]:  # ResNet-50, -101, -152
    with torch.device("meta"):  # shapes only
        v1 = architecture(row["model"].replace("ResNet-", "resnet"), in_channels=3,
                          num_classes=1000, torchvision_compat=True)
    for blk in v1.modules():  # the paper's bottleneck: the stride in conv1 (1x1), not conv2
        if isinstance(blk, Bottleneck) and blk.conv2.stride == (2, 2):
            blk.conv1.stride, blk.conv2.stride = (2, 2), (1, 1)
    gmacs_v1 = count_flops(v1, (1, 3, 224, 224)) / 2e9
    print(row["model"], round(row["gmacs_224"], 2), round(gmacs_v1, 2), row["table1"])
    assert abs(gmacs_v1 / row["table1"] - 1) < 0.025
    assert abs(row["ours_over_table1"] - 1) > abs(gmacs_v1 / row["table1"] - 1)

# %% [markdown]
# ### 练习3：更深网络的“bottleneck”架构
#
# *对于更深层次的网络，ResNet引入了“bottleneck”架构来降低模型复杂性。请试着去实现它。*
#
# `Bottleneck`把两个3×3卷积层换成三个卷积层：一个1×1卷积层把通道数减为四分之一，一个3×3卷积层在减少后的通道上计算，再用一个1×1卷积层把通道数扩展回去（打印`Bottleneck(256, 64)`可以看到各层）。在相同的宽度下（输入和输出都是256个通道，正是ResNet-50第一个模块在残差块之间传递的通道数），与基本残差块比较：

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
# 通道数相同时，瓶颈残差块的成本不到基本残差块的1/15。论文把省下的计算量用来加深网络：256个通道的瓶颈残差块，成本与64个通道的基本残差块相当（下面在56×56上比较），却有三层而不是两层，输出也宽了4倍。这就是ResNet-50有50层、计算量却与ResNet-34相近的原因：

# %%
basic_64 = size_and_cost(Residual(64, 64), (1, 64, 56, 56))
bottleneck_256 = size_and_cost(Bottleneck(256, 64), (1, 256, 56, 56))
print({"Residual(64, 64)": basic_64, "Bottleneck(256, 64)": bottleneck_256})  # at 56x56
assert all(abs(b / a - 1) < 0.1 for a, b in zip(basic_64, bottleneck_256))
assert r50["gmacs_224"] / r34["gmacs_224"] < 1.15

# %% [markdown]
# ### 练习4：预激活残差块（“Identity Mappings”）
#
# *在ResNet的后续版本中，作者将“卷积层、批量规范化层和激活层”架构更改为“批量规范化层、激活层和卷积层”架构。请尝试做这个改进。详见He等（2016）中的图1。*
#
# He等（2016，“Identity Mappings in Deep Residual Networks”）把批量规范化层和ReLU移到了每个卷积层之前；相加之后不再有任何层，尤其是没有ReLU：

# %%
print(inspect.getsource(PreActResidual.forward))

# %% [markdown]
# 论文的要点在于许多残差块连在一起的时候。相加之后什么也没有，第$i$个块就恰好计算$\mathbf{x}_{i+1} = \mathbf{x}_i + F(\mathbf{x}_i)$，所以对任意一个块$l$和它之后的任意一个块$L$，
#
# $$\mathbf{x}_L = \mathbf{x}_l + \sum_{i=l}^{L-1} F(\mathbf{x}_i), \qquad
# \frac{\partial \ell}{\partial \mathbf{x}_l} = \frac{\partial \ell}{\partial \mathbf{x}_L}
# \Big(1 + \frac{\partial}{\partial \mathbf{x}_l} \sum_{i=l}^{L-1} F(\mathbf{x}_i)\Big).$$
#
# 无论堆叠多深，梯度的第一项都原样到达第$l$个块。如果每次相加之后都接ReLU，跨层数据通路就不再是恒等映射：每个ReLU在和为负的位置把梯度置零，这些零一个块接一个块地累积起来。
#
# 为了单独观察第一项，构造残差映射不传递梯度的块：权重为0（`zero_init_`），但残差映射最后一层的偏置在每个通道上取一个有正有负的随机值。这样每个块只是加上一个常数，凡是到达输入的梯度都来自跨层数据通路。输入是非负的（就像经过ReLU之后那样），所以截断不会来自输入本身的符号。从堆叠了1、2、4、……、64个块的顶端反向传入一个随机梯度：

# %%
def last_layer(blk):
    return blk.conv2 if isinstance(blk, PreActResidual) else blk.bn2  # where the branch ends


def shifted_stack(block_type, depth, channels=16):
    """depth blocks whose branches output a signed constant per channel and pass no gradient."""
    blocks = [block_type(channels, channels).zero_init_() for _ in range(depth)]
    for blk in blocks:
        nn.init.normal_(last_layer(blk).bias, std=0.5)
    return nn.Sequential(*blocks).eval()


torch.manual_seed(0)
depths = (1, 2, 4, 8, 16, 32, 64)
X = torch.rand(4, 16, 8, 8, requires_grad=True)
V = torch.randn_like(X)  # the gradient arriving from above
intact = {}
fig, ax = plt.subplots(figsize=(5.5, 3.2))
for block_type, key in ((PreActResidual, "preact_stack"), (Residual, "postact_stack")):
    stack, outputs, x = shifted_stack(block_type, depths[-1]), {}, X
    for depth, blk in enumerate(stack, start=1):
        x = outputs[depth] = blk(x)
    intact[block_type] = [(torch.autograd.grad(outputs[d], X, V, retain_graph=True)[0] == V)
                          .float().mean().item() for d in depths]
    shifts = sum(last_layer(blk).bias for blk in stack)[:, None, None]  # the branches' sum
    exact = torch.allclose(outputs[depths[-1]] - X, shifts, atol=1e-4)  # x_L = x_0 + sum F
    assert exact == (block_type is PreActResidual)
    ax.plot(depths, intact[block_type], "o-", label=label(key))
ax.set(xscale="log", ylim=(0, 1.05), xlabel=label("blocks_stacked"),
       ylabel=label("gradient_intact"))
ax.set_xticks(depths, [str(d) for d in depths])
ax.legend(loc="center right")
plt.show()
post = intact[Residual]
print([round(v, 2) for v in post])
assert intact[PreActResidual] == [1.0] * len(depths)  # every entry arrives, at every depth
assert all(a >= b for a, b in zip(post, post[1:])) and post[-1] < post[0] / 2

# %% [markdown]
# 经过预激活残差块的堆叠，梯度在任何深度都完整地到达输入，而且输出恰好等于输入加上各残差映射之和。经过原始结构的残差块，原样到达的比例随深度下降：堆叠深处的ReLU会截断前面的ReLU放过的部分。（实际的残差映射也传递梯度，即公式中的第二项；这里它们的权重为0，把这一项关掉了。）
#
# 构建函数也能构建完整的预激活网络；由于它的残差块以卷积层结尾，它像论文那样在汇聚层之前加上一个批量规范化层和ReLU。它的层数与ResNet-18相同，参数数量和计算量相差都不到百分之一：

# %%
pre18, r18_net = resnet(block=PreActResidual), resnet18()
assert count_layers(pre18) == 18
assert isinstance(pre18[-4][0], nn.BatchNorm2d) and isinstance(pre18[-4][1], nn.ReLU)
assert pre18(torch.rand(2, 1, 96, 96)).shape == (2, 10)
assert abs(count_parameters(pre18) / count_parameters(r18_net) - 1) < 0.01
assert abs(count_flops(pre18, (1, 1, 96, 96)) / count_flops(r18_net, (1, 1, 96, 96)) - 1) < 0.01

# %% [markdown]
# **自己试一试。** 用训练笔记本中的方法分别训练`resnet(block=PreActResidual)`和`resnet18()`，比较结果。
#
# ### 练习5：为什么要限制函数的复杂性
#
# *为什么即使函数类是嵌套的，我们仍然要限制增加函数的复杂性呢？*
#
# 嵌套保证了更大的函数类*包含*一个函数，它至少与较小函数类中最好的函数一样好；但并不保证这个函数容易找到、运行便宜或者泛化良好：
#
# * **计算量。** 每个残差块都增加固定的成本：每一步训练和每一次预测都随深度增长。
# * **过拟合。** 更大的函数类中有更多只拟合训练数据、却不拟合测试数据的函数。论文中1202层的CIFAR-10网络与110层的网络训练得一样好，测试误差却更高（论文表6：7.93%对6.43%，这里没有运行）。
# * **收益递减。** 模型每变大一步，换来的精度就更少。
#
# 先看成本，以论文中6n+2层的CIFAR网络为例。每多6层，就在3个模块中各加一个残差块，所以参数数量和计算量沿一条直线增长。在218层以内测量，再用这条直线预测论文中的1202层：

# %%
depth_range = (20, 56, 110, 218)
params_by_depth, mflops_by_depth = [], []
for depth in depth_range:
    with torch.device("meta"):  # shapes only: no memory, no initialisation
        net = cifar_resnet(depth_to_n(depth))
    params_by_depth.append(count_parameters(net) / 1e6)
    mflops_by_depth.append(count_flops(net, (1, 1, 28, 28)) / 1e6)  # forward, one 28x28 image


def on_line(values, depth):
    """The straight line through the first and the last measured depth, at depth."""
    slope = (values[-1] - values[0]) / (depth_range[-1] - depth_range[0])
    return values[0] + slope * (depth - depth_range[0])


print([round(p, 2) for p in params_by_depth], round(on_line(params_by_depth, 1202), 2))
print([round(f) for f in mflops_by_depth], round(on_line(mflops_by_depth, 1202)))
for values in (params_by_depth, mflops_by_depth):  # every measured depth is on the line
    assert all(abs(on_line(values, d) / v - 1) < 1e-3 for d, v in zip(depth_range, values))
assert round(on_line(params_by_depth, 1202), 1) == 19.4  # the paper's Table 6: 19.4M
assert on_line(mflops_by_depth, 1202) / mflops_by_depth[0] > 60  # over 60x the 20-layer cost

# %% [markdown]
# 再看收益，用torchvision公布的表1中各网络在ImageNet上的top-1精度：从ResNet-50起，每多一个GMAC换来的精度越来越少（从ResNet-34到ResNet-50是瓶颈结构带来的便宜一步）；ResNet-152比ResNet-101多花约一半的计算量，精度却提高不到1个百分点。

# %%
names = list(table1_gmacs)  # the five ResNets of Table 1
top1 = {n: by_name[n]["top1"] for n in names}
gmacs = {n: by_name[n]["gmacs_224"] for n in names}
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot([gmacs[n] for n in names], [top1[n] for n in names], "o-")
for n in names:
    ax.annotate(n, (gmacs[n], top1[n]), fontsize=8, xytext=(4, -10), textcoords="offset points")
ax.set(xlabel=label("gmacs_image", size=224), ylabel=label("imagenet_top1"))
ax.margins(x=0.15, y=0.12)  # room for the names
plt.show()
gain_per_gmac = {big: (top1[big] - top1[small]) / (gmacs[big] - gmacs[small])
                 for small, big in zip(names, names[1:])}
print({n: round(v, 2) for n, v in gain_per_gmac.items()})
assert gain_per_gmac["ResNet-50"] > gain_per_gmac["ResNet-101"] > gain_per_gmac["ResNet-152"]
assert top1["ResNet-152"] - top1["ResNet-101"] < 1 and gmacs["ResNet-152"] / gmacs["ResNet-101"] > 1.4

# %% [markdown]
# **自己试一试。** 对几个不同的深度，测量`cifar_resnet(depth_to_n(d))`训练一步所需的时间：时间也随深度线性增长吗？
#
# ## 小结
#
# * ResNet家族就是一张表：从ResNet-18到ResNet-34改的是每个模块的残差块数，到ResNet-50改的是残差块；每个成员的参数数量和乘加次数都与torchvision一致。而GoogLeNet的每个Inception块需要手工选定6个通道数，它们的和还必须前后衔接。
# * ResNeXt让Inception的各条路径都一样，合成分组卷积：分组卷积的成本是$\mathcal{O}(c_i c_o / g)$，省下的计算量让3×3卷积层宽了一倍。我们的ResNeXt-50与torchvision的一样，有25,028,904个参数。
# * 瓶颈残差块的成本不到同样宽度的基本残差块的1/15：ResNet-50有50层，成本却与ResNet-34相近。它比表1多出的计算量来自v1.5的步幅位置。
# * 使用预激活时，跨层数据通路在整个堆叠中构成恒等映射：输出等于输入加上各残差映射之和，沿这条通路的梯度在任何深度都完整到达；而相加之后接ReLU时，堆叠越深，梯度被截断得越多。
# * 嵌套的函数类再大也不是免费的：成本随深度线性增长，精度的提升却越来越小。
