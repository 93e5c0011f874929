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
# # 更深的网络：退化问题
#
# **笔记之外。** 笔记的6.1节从函数类讲起：如果较大的函数类**包含**较小的函数类，那么把网络变大，不会让我们离目标更远（笔记的说法是“确保提高”；嵌套能保证的其实是“不会变差”）。
# 落到深度神经网络上，笔记是这样说的：**如果我们能将新添加的层训练成恒等映射$f(\mathbf{x}) = \mathbf{x}$，新模型和原模型将同样有效。**
# 这样看来，更深的网络至少不会比较浅的网络差——**在训练数据上**。
#
# 可是，把层简单地堆叠起来的普通网络并不是这样。何恺明等人（2015）发现，56层的普通网络的**训练误差**比20层的还要高。
# 这不是过拟合（过拟合只会体现在测试集上），而是更深的网络更难优化。他们把这种现象称为**退化**（degradation）问题，6.2节的残差块就是他们给出的解决办法。
#
# 本笔记本在Fashion-MNIST上训练两种深度的普通网络和残差网络，在你自己的运行结果上测出退化，然后再看看两种网络在初始化时的梯度。

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

# %%
import inspect

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from d2lresnet import count_layers, count_parameters, trace_shapes
from d2lresnet.data import load_fashion_mnist
from d2lresnet.experiments.degradation import (RECIPE, degradation_experiment, load_results,
                                               plot_degradation, run_config)
from d2lresnet.experiments.gradients import conv_grad_norms, plot_grad_norms
from d2lresnet.experiments.twins import CifarBlock, cifar_resnet, depth_to_n
from d2lresnet.presets import default_preset_name

# The run's size follows D2LRESNET_PRESET: smoke (CI, a laptop) half a minute, quick a longer
# run on a CPU, book the saved run below. PRESET = "book" runs the full one here.
PRESET = default_preset_name()
SAVED = "../figures/degradation.json"  # the full run's numbers, made on a GPU

# %% [markdown]
# ## 普通网络与残差网络：一对“双胞胎”
#
# 为了只看到跨层数据通路本身的作用，我们需要一对**双胞胎**网络：层相同、参数数量相同、初始权重也相同，唯一的区别是每个块是否把输入加回去。
# 论文中用于CIFAR-10的网络（原文第4.2节）正是为此设计的，而且可以直接用于28×28的Fashion-MNIST图像：
#
# * 一个16通道的3×3卷积层；
# * 三个阶段，每个阶段有$n$个块，通道数分别为16、32和64；第二、第三阶段的第一个块把高和宽减半（步幅为2）；
# * 全局平均汇聚层和一个全连接层。
#
# 每个块有两个3×3卷积层，所以共有$6n + 2$个带权重的层：$n = 3$时为20层，$n = 9$时为56层。
# 每个块都由笔记中的`Residual`类构造，但按论文中CIFAR网络的做法改了三处：卷积层不带偏置（其后的批量规范化层有自己的偏移）；用何恺明（Kaiming）初始化代替书中的Xavier初始化；在形状改变的地方使用没有参数的跨层数据通路（见下文）。
# 普通网络用的是同一个块，只是去掉了相加：

# %%
print(inspect.getsource(CifarBlock.forward))

# %% [markdown]
# 在改变形状的地方，笔记中的残差块会在跨层数据通路上放一个1×1卷积层。
# 这个卷积层是**可学习的投影**：它有自己的权重，和其他层的权重一样参与训练。
# 这样双胞胎的参数就不一样了，因此论文中的CIFAR网络在这里改用一种没有参数的跨层数据通路（原文的“选项A”）：每隔一个像素取一个，再在后面补上全零的通道。
# 这样一来，两个网络就是真正的双胞胎：

# %%
torch.manual_seed(0)
residual_20 = cifar_resnet(n=3)
torch.manual_seed(0)
plain_20 = cifar_resnet(n=3, plain=True)

for row in trace_shapes(residual_20, (1, 1, 28, 28)):
    print(f"{row.name:18s} {str(tuple(row.shape)):18s} {row.parameters:>8,}")

assert count_layers(residual_20) == count_layers(plain_20) == 20
assert count_parameters(residual_20) == count_parameters(plain_20)
assert all(torch.equal(value, plain_20.state_dict()[key])
           for key, value in residual_20.state_dict().items())

# %% [markdown]
# 如果改用笔记中的1×1投影，这个20层的网络在两次改变通道数的地方（16→32和32→64）各多出一个1×1卷积层（和论文一样不带偏置），共$16 \cdot 32 + 32 \cdot 64$个权重；做一次反向传播，它们就得到了梯度。

# %%
projection_20 = cifar_resnet(n=3, shortcut="projection")
projections = [m for m in projection_20.modules()
               if isinstance(m, CifarBlock) and isinstance(m.shortcut, nn.Conv2d)]
print(count_parameters(projection_20) - count_parameters(residual_20))
assert count_parameters(projection_20) - count_parameters(residual_20) == 16 * 32 + 32 * 64

train_images, train_labels = load_fashion_mnist(train=True)
projection_20(train_images[:8].unsqueeze(1).float() / 255).sum().backward()
assert len(projections) == 2
assert all(p.shortcut.weight.grad.abs().sum() > 0 for p in projections)

# %% [markdown]
# 论文的表6列出了这些网络的大小（20层0.27M个参数，32、44、56层分别为0.46M、0.66M和0.85M）。
# 我们的网络与之一致：输入只有一个通道而不是三个，几乎没有影响。

# %%
paper_table6 = {20: 0.27, 32: 0.46, 44: 0.66, 56: 0.85}  # millions of parameters
for depth, millions in paper_table6.items():
    ours = count_parameters(cifar_resnet(depth_to_n(depth)))
    print(f"{depth}: {ours:,} ({millions}M)")
    assert round(ours / 1e6, 2) == millions

# %% [markdown]
# ## 实验：在你自己的机器上
#
# 退化说的是网络**能达到的训练损失**，所以过早停止的训练说明不了它：更深的网络也许只是需要更久。
# 因此这个实验只在一个小的子集（几百到几千张图像）上训练，让损失在训练结束前趋于平稳（进入平台期）。
# 每种深度的一对双胞胎都用笔记本05训练ResNet-18的同一个训练函数（`d2lresnet.train.train`）来训练，保留双胞胎自己的初始化，在同样的图像上使用同样的训练方法：动量为0.9的SGD，学习率固定为0.05，没有让曲线被迫变平的学习率调度。
# 每条曲线是一个网络在每个迭代周期的平均训练损失；每对双胞胎都用三个随机种子各训练一次（种子决定所用的子集、初始权重和小批量的顺序）。
#
# 预设决定运行的规模，和训练时一样：
#
# * `smoke`（用于CI和笔记本电脑）：8层和20层，192张图像，6个迭代周期；太短，到不了平台期，但足以看出更深的普通网络落在后面；
# * `quick`：20层和56层，1000张图像，30个迭代周期；
# * `book`：下面保存的那次运行：20层和56层，2000张图像，80个迭代周期。在上面的单元格中设置`PRESET = "book"`，或者用`D2LRESNET_PRESET=book`启动Jupyter；在终端中运行`python -m d2lresnet degradation --preset book`。在CPU上要花几个小时。

# %%
train_images, train_labels = load_fashion_mnist(train=True)
config = run_config(PRESET)
print(PRESET, config, RECIPE)
results = degradation_experiment(train_images, train_labels, **config, log=None)
plot_degradation(results)
plt.show()

# %% [markdown]
# **看什么。** 左图是普通网络，右图是残差网络，布局与论文的图6相同，每个种子一条线。
# 在每个种子上，从第2个迭代周期起，更深的普通网络的训练损失都高于较浅的。下面的单元格检验这一点，并检验更深的残差网络最后的损失低于它的普通网络双胞胎。
#
# 它不检验的是：更深的残差网络最后是否低于较浅的残差网络。在这么短的运行中，结果随种子而变，所以这里不作这样的断言。

# %%
def losses(results, kind, depth):
    """The training loss per epoch, one row per seed."""
    return np.array([run["loss"] for run in results[kind][depth]])


shallow, deep = config["depths"]
plain_gap = losses(results, "plain", deep) - losses(results, "plain", shallow)
print(f"plain-{deep} minus plain-{shallow}, per seed and epoch:\n{plain_gap.round(2)}")
print(f"last epoch, residual-{deep}: {losses(results, 'residual', deep)[:, -1].round(3)}, "
      f"plain-{deep}: {losses(results, 'plain', deep)[:, -1].round(3)}")
assert (plain_gap[:, 1:] > 0).all()  # the deeper plain net trains worse, every seed, epoch 2 on
assert (losses(results, "residual", deep)[:, -1] < losses(results, "plain", deep)[:, -1]).all()

# %% [markdown]
# ## 保存的运行
#
# `book`运行（20层和56层，2000张图像，80个迭代周期，三个种子）在GPU上做过一次，并保存了数据。下面根据这些数据画图：

# %%
saved = load_results(SAVED)
print(saved["config"])
plot_degradation(saved)
plt.show()


def first_epoch_below(curve, level=1e-3):
    """The first epoch whose training loss is below level (None: never)."""
    below = np.flatnonzero(np.array(curve) < level)
    return int(below[0]) + 1 if len(below) else None


print(f"{'':14}{'seed':>5}{'epoch < 1e-3':>14}{'last loss':>12}{'last error':>12}")
for kind in ("plain", "residual"):
    for depth, runs in sorted(saved[kind].items()):
        for seed, run in zip(saved["config"]["seeds"], runs):
            print(f"{i18n.pad(f'{i18n.tr(kind)}-{depth}', 14)}{seed:>5}"
                  f"{str(first_epoch_below(run['loss'])):>14}{run['loss'][-1]:12.2e}"
                  f"{run['err'][-1]:12.3f}")

# %% [markdown]
# 这就是退化问题，以及残差网络对它的回答；运行足够长，才能把它和“训练得慢”区分开：
#
# * **普通网络**：在每个种子上，普通网络-56的训练损失在每个迭代周期都高于普通网络-20。到第80个迭代周期，普通网络-20已把2000张训练图像全部分对，损失稳定在$3 \times 10^{-4}$附近；普通网络-56仍有4%到10%分错，损失高出几百倍，而且下降得很慢。
#   更多的层让训练数据**更难拟合**，而不是更容易，尽管普通网络-56把普通网络-20当作特例包含在内（把多出的层设成恒等映射即可）。
# * **残差网络**：两种深度都拟合了全部训练图像，损失稳定在$1 \sim 3 \times 10^{-4}$。更深的网络付出的是**时间**，而不是能达到的损失：残差网络-20在每个种子上都在30多个迭代周期后降到$10^{-3}$以下；残差网络-56在一个种子上用时相当，在另一个种子上要两倍多（见表中间一列）。
# * **这次运行没有显示的**：更深的残差网络训练得**更好**（论文在CIFAR-10上是这样）。到了平台期，两个残差网络都完全拟合了这个子集，哪一个最后更低随种子而变。
#   2000张图像太少，深度还显不出好处；但足以说明：有了跨层数据通路，深度不再带来坏处。
#
# 这些结论由`tests/test_degradation.py`对照保存的数据检验。这次运行的耗时和所用机器记录在它的`config`中（`seconds`和`machine`）：在一块GPU上同时训练八个网络。在双核CPU上，一次`book`运行要花几个小时。

# %% [markdown]
# **动手试一试。** 换别的深度或规模，例如8层和32层、512张图像、20个迭代周期：
# `degradation_experiment(train_images, train_labels,
# **run_config("smoke", depths=(8, 32), train_size=512, epochs=20))`。
#
# ## 初始化时的梯度
#
# 深的普通网络为什么难以训练？第一个猜测是**梯度消失**：梯度在反向穿过许多层时越来越小，于是前面的层几乎学不到东西。
# 论文（原文第4.1节）已经对此表示怀疑：有了批量规范化，前向传播的信号保持着健康的方差，作者也检查过反向传播的梯度，其范数同样正常。
#
# 我们来看一看。取一个含64张图像的小批量，在初始化时做一次前向和反向传播；对主路径上的每个卷积层，记录其权重梯度的范数，从输入端排到输出端。
# 56层的普通网络和残差网络从相同的权重出发。

# %%
images, labels = train_images[:64], train_labels[:64]
norms = {}
for kind in ("plain", "residual"):
    torch.manual_seed(0)
    net = cifar_resnet(depth_to_n(56), plain=(kind == "plain"))
    norms[kind] = conv_grad_norms(net, images, labels)

plot_grad_norms({f"{i18n.label(kind)}-56": named for kind, named in norms.items()})
plt.show()


def first_over_last(named_norms):
    """The first conv's gradient norm over the last conv's."""
    return named_norms[0][1] / named_norms[-1][1]


def spread(named_norms):
    """How far apart the layers' gradient norms are: largest over smallest."""
    values = [value for _, value in named_norms]
    return max(values) / min(values)


for kind, named in norms.items():
    print(f"{i18n.pad(i18n.tr(kind), 10)} {first_over_last(named):10.1f} {spread(named):10.1f}")

assert len(norms["plain"]) == len(norms["residual"]) == 55  # 56 layers less the linear one
# Towards the input the plain net's gradients grow by orders of magnitude;
# the residual twin's stay within about one.
assert first_over_last(norms["plain"]) > 500
assert spread(norms["residual"]) < 20
assert spread(norms["plain"]) > 20 * spread(norms["residual"])

# %% [markdown]
# 第一个数是第一个卷积层与最后一个卷积层的梯度范数之比，第二个数是最大与最小之比。
# 正如论文所说，梯度并没有消失；但测量结果确实揭示了普通网络的问题：它的梯度**在不同深度上的尺度相差悬殊**。
# 普通网络第一层得到的梯度大约是最后一层的一千倍，没有哪个学习率能同时适合两端。
# 在带批量规范化的深层普通网络中，梯度在反向传播时逐层增大（Yang等人，2019，“A Mean Field Theory of Batch Normalization”，证明了初始化时的这种梯度爆炸；Balduzzi等人，2017，“The Shattered Gradients Problem”，表明深层普通网络的梯度还会失去结构）。
# 权重完全相同的残差网络，在每个块中都有一条让梯度直接通过的路径，各层的梯度大小相当。
#
# 随着深度增加，情况怎样变化？下面是两种网络在几种深度下的梯度分布，以及每种深度下第一层与最后一层之比：

# %%
depths = (8, 20, 38, 56)
profiles = {"plain": {}, "residual": {}}
for depth in depths:
    for kind in profiles:
        torch.manual_seed(0)
        net = cifar_resnet(depth_to_n(depth), plain=(kind == "plain"))
        profiles[kind][depth] = conv_grad_norms(net, images[:32], labels[:32])

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
for ax, kind in zip(axes, profiles):
    plot_grad_norms({f"{i18n.label(kind)}-{d}": profiles[kind][d] for d in depths}, ax=ax)
    ax.set_title(i18n.label("networks_title", kind=i18n.label(kind), extra=""))
plt.show()

ratios = {kind: [first_over_last(profiles[kind][d]) for d in depths] for kind in profiles}
for kind, values in ratios.items():
    print(i18n.pad(i18n.tr(kind), 10), " ".join(f"{v:10.1f}" for v in values))
assert ratios["plain"][-1] > 10 * ratios["plain"][0]  # the imbalance grows with depth
assert ratios["plain"][-1] > 10 * ratios["residual"][-1]

# %% [markdown]
# **动手试一试。** 去掉批量规范化后情况会变吗？在普通网络的一个副本中把每个`nn.BatchNorm2d`换成`nn.Identity()`（遍历`net.named_modules()`并用`setattr`），把它的梯度范数画在其他曲线旁边。
#
# ## 小结
#
# * 更深的普通网络可能比较浅的训练得**更差**：这就是退化问题。训练到损失趋于平稳时，在每个种子上普通网络-56都远高于普通网络-20，而普通网络-20拟合了每一张训练图像：这不是训练停得太早，而是优化更难。
# * 层相同、初始权重也相同的残差网络，在两种深度上都拟合了训练数据。深度让它们多花了时间，但没有让能达到的损失变高；至于更深的残差网络最后**更低**（论文的结果），这次小规模的运行没有显示出来。
# * 这里的双胞胎使用论文中没有参数的跨层数据通路，以保证二者完全一致；笔记中跨层数据通路上的1×1卷积层是有自己权重的可学习投影。
# * 初始化时，深的普通网络的梯度并没有消失：越靠近输入，梯度越大，相差几个数量级，网络越深越明显；残差网络各层的梯度则始终相差不到大约一个数量级。

# %% [markdown]
# ## 练习
#
# 每道练习都有一个答案单元：把其中的`...`换成你的答案并运行，然后运行它下面的检查单元。检查单元告诉你答得对不对，不对时给出提示；正确答案由你的运行结果或模块计算得出，所以本笔记本中任何地方都没有写出答案。每个检查单元下面折叠着一份解答：点击那三个点（JupyterLab）或**显示代码**（Colab）即可展开。教师分发的副本（`make student`）不含解答。

# %%
from d2lresnet import exercises

# %% [markdown]
# **练习1**：先预测，再检验：在你上面自己的运行中，较深的那一对双胞胎里，哪一个在多数种子上最后的训练损失更高，`"plain"`（普通网络）还是`"residual"`（残差网络）？请在重新看图之前回答。

# %%
answer_6_1 = ...  # your answer

# %%
exercises.check("06.1", answer_6_1, results=results)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
# The last epoch's loss of each twin at the deeper depth, one pair per seed.
last = {kind: [run["loss"][-1] for run in results[kind][deep]] for kind in ("plain", "residual")}
print(last)
plain_worse = sum(p > r for p, r in zip(last["plain"], last["residual"]))
answer_6_1 = "plain" if 2 * plain_worse > len(last["plain"]) else "residual"
assert exercises.check("06.1", answer_6_1, results=results)

# %% [markdown]
# **练习2**：32层的残差网络双胞胎（`cifar_resnet(5)`）有多少个参数？先根据网络结构手算（论文的表6给出0.46M），再检验。

# %%
answer_6_2 = ...  # your answer

# %%
exercises.check("06.2", answer_6_2)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
# n = 5 blocks per stage; each block: two 3x3 convs without bias and two BatchNorms.
widths, n = (16, 32, 64), 5
convs = 1 * 16 * 3 * 3 + sum(c_in * c_out * 3 * 3 + c_out * c_out * 3 * 3
                             for c_in, c_out in zip((16,) + widths[:-1], widths)) \
    + sum((n - 1) * 2 * c * c * 3 * 3 for c in widths)
batch_norms = 2 * 16 + sum(n * 2 * 2 * c for c in widths)
answer_6_2 = convs + batch_norms + 64 * 10 + 10
assert answer_6_2 == count_parameters(cifar_resnet(depth_to_n(32)))
assert exercises.check("06.2", answer_6_2)
