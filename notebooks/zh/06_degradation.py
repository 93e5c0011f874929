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
# **笔记之外。** 你将看到56层普通网络对训练图像的拟合不如20层普通网络，而同样深的残差网络不会这样：先看保存的运行，再看你自己的；然后看两种网络初始化时的梯度。默认预设下，在双核CPU上“全部运行”需要约12分钟（按最初几个训练步估算），几乎都花在课堂上可以跳过的一个单元格上。

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

# %% [markdown]
# 笔记的6.1节从函数类讲起：**如果我们能将新添加的层训练成恒等映射$f(\mathbf{x}) = \mathbf{x}$，新模型和原模型将同样有效。**这样看来，更深的网络对**训练数据**的拟合不会比较浅的差。
#
# 何恺明等人（2015）却发现，56层普通网络的**训练误差**比20层的还要高。这不是过拟合（那只会体现在测试集上），而是更深的网络更难优化。他们把这种现象称为**退化**（degradation）问题；6.2节的残差块就是他们给出的解决办法。
#
# **练习1（先预测）。** 在你下面的运行中，较深的那一对普通网络和残差网络，哪一个在多数种子上最后的训练损失更高？请在看到任何结果之前回答，答案是字符串`"plain"`或`"residual"`；在你自己的运行之后检验。

# %%
answer_6_1 = ...  # your answer · 你的答案: "plain" or "residual"

# %%
import inspect

import matplotlib.pyplot as plt
import numpy as np
import torch

from d2lresnet import count_parameters, exercises
from d2lresnet.data import load_fashion_mnist
from d2lresnet.experiments.degradation import (degradation_experiment, load_results,
                                               plot_degradation, print_summary, run_config)
from d2lresnet.experiments.gradients import conv_grad_norms, plot_grad_norms
from d2lresnet.experiments.twins import CifarBlock, cifar_resnet, depth_to_n, estimate_twins
from d2lresnet.presets import default_preset_name

PRESET = default_preset_name()  # D2LRESNET_PRESET, or set it here: "smoke", "quick", "book"
SAVED = "../figures/degradation.json"  # the full run below, made once on a GPU

# %% [markdown]
# ## 一次保存的运行
#
# 20层和56层的普通网络与残差网络（“双胞胎”，见下一节），各在2000张Fashion-MNIST图像上训练80个迭代周期，三个种子；都用动量为0.9的SGD，学习率固定为0.05，没有让曲线被迫变平的学习率调度。每条曲线是一个网络每个迭代周期的平均训练损失：

# %%
saved = load_results(SAVED)
plot_degradation(saved, title_extra=i18n.label("saved_run_note"))
plt.show()
print_summary(saved)

plain_loss = {depth: np.array([run["loss"] for run in runs])  # one row per seed
              for depth, runs in saved["plain"].items()}
assert (plain_loss[56] > plain_loss[20]).all()  # degradation: every seed, every epoch
assert all(run["err"][-1] == 0 for depth in (20, 56) for run in saved["residual"][depth])

# %% [markdown]
# 表中按网络列出各个种子的结果：损失首次低于$10^{-3}$的迭代周期，最后的损失和分错图像的比例，以及最后10个迭代周期的平均损失与之前10个之比。
#
# * **普通网络。** 在每个种子、每个迭代周期上，56层普通网络的损失都高于20层普通网络。20层普通网络把2000张图像全部分对；56层普通网络仍有4%到10%分错，损失高出几百倍。层数更多，训练数据反而**更难拟合**。
# * **残差网络。** 两种深度都把每张图像分对，最终损失在$8.6 \times 10^{-5}$到$2.6 \times 10^{-4}$之间。深度让它们多花时间：56层残差网络降到$10^{-3}$以下所用的迭代周期，从与20层残差网络相当到两倍多不等。
# * **并未变平。** 每条曲线都还在下降，最后10个迭代周期降了十分之一到三分之一（一个56层残差网络降到十分之一）。所以这次运行并不说明56层普通网络永远拟合不了这些数据，只说明其他三个网络已拟合每张图像时，它还远远落后。
# * **没有显示的**：更深的残差网络最后**更低**（论文在CIFAR-10上是这样）；哪一个更低随种子而变。
#
# ## 普通网络与残差网络：一对“双胞胎”
#
# 为了只看到跨层数据通路的作用，这些网络是**双胞胎**：层和初始权重都相同。它们是论文中用于CIFAR-10的网络（原文第4.2节）：在一个3×3卷积层和一个全连接层之间，是三个各有$n$个块的阶段，通道数分别为16、32和64，共$6n + 2$层（$n = 3$时20层，$n = 9$时56层）。每个块都是笔记中的`Residual`，按论文改了三处：卷积层不带偏置，用何恺明初始化，形状改变处用没有参数的跨层数据通路。普通网络只是去掉了相加：

# %%
print(inspect.getsource(CifarBlock.forward))

torch.manual_seed(0)
residual_20 = cifar_resnet(n=3)
torch.manual_seed(0)
plain_20 = cifar_resnet(n=3, plain=True)
assert all(torch.equal(value, plain_20.state_dict()[key])
           for key, value in residual_20.state_dict().items())  # the same initial weights

# %% [markdown]
# 笔记的论证需要56层普通网络包含20层普通网络，但这只部分成立：多出的36层必须让输入原样通过。在预测模式下，批量规范化是固定的缩放和偏移，一个卷积层—批量规范化层—ReLU可以让非负的输入（ReLU的输出）原样通过。但在训练模式下，批量规范化要除以每个小批量自己的统计量，这个层无论怎样设置，都不能让每个输入都原样通过。残差块在两种模式下都能做到：把最后一个批量规范化层的拉伸参数$\gamma$和偏移参数$\beta$设为零，它输出的就是$\mathrm{ReLU}(\mathbf{x}) = \mathbf{x}$。
#
# ## 你自己的运行
#
# 运行的规模由预设决定：在CPU上默认是20层和56层、1000张图像、30个迭代周期、三个种子；在`smoke`下是8层和20层、192张图像、6个迭代周期。第一个单元格先计时几个训练步，告诉你在这台机器上要多久。**课堂上请跳过下一个单元格**：其后的单元格会改读保存的运行。回家再训练。

# %%
train_images, train_labels = load_fashion_mnist(train=True)
config = run_config(PRESET)
print(PRESET, config)
results = None  # until the next cell has trained
estimate_twins(**config);

# %%
results = degradation_experiment(train_images, train_labels, **config, log=None)

# %%
if results is None:  # the training cell was skipped: the saved run stands in
    results = saved
plot_degradation(results, title_extra=i18n.label("saved_run_note") if results is saved else "")
plt.show()
print_summary(results)

# %% [markdown]
# 在每个种子上，从第2个迭代周期起，较深的普通网络的损失应当一直高于较浅的，较深的残差网络最后应当低于它的普通网络双胞胎：

# %%
def losses(kind, depth):
    return np.array([run["loss"] for run in results[kind][depth]])  # one row per seed


shallow, deep = results["config"]["depths"]
assert (losses("plain", deep)[:, 1:] > losses("plain", shallow)[:, 1:]).all()
assert (losses("residual", deep)[:, -1] < losses("plain", deep)[:, -1]).all()

# %%
exercises.check("06.1", answer_6_1, results=results)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
# The last epoch's loss of each twin at the deeper depth, one pair per seed.
last = {kind: [run["loss"][-1] for run in results[kind][deep]] for kind in ("plain", "residual")}
print(last)
plain_worse = sum(p > r for p, r in zip(last["plain"], last["residual"]))
solution_6_1 = "plain" if 2 * plain_worse > len(last["plain"]) else "residual"
assert exercises.check("06.1", solution_6_1, results=results)

# %% [markdown]
# ## 初始化时的梯度
#
# 深的普通网络为什么难以训练？第一个猜测是**梯度消失**，论文对此表示怀疑。我们来看一看：取64张图像的小批量，在初始化时做一次前向和反向传播，从输入端起记录56层双胞胎中每个卷积层权重梯度的范数。

# %%
images, labels = train_images[:64], train_labels[:64]
norms, measured = {}, {}
for kind in ("plain", "residual"):
    torch.manual_seed(0)
    net = cifar_resnet(depth_to_n(56), plain=(kind == "plain"))
    norms[kind] = conv_grad_norms(net, images, labels)
    g = [norm for _, norm in norms[kind]]
    # BatchNorm follows every conv: a step changes it by the gradient over its weights' size
    modules = dict(net.named_modules())
    relative = [norm / modules[name].weight.norm().item() for name, norm in norms[kind]]
    measured[kind] = dict(first_last=g[0] / g[-1], spread=max(g) / min(g),
                          relative=relative[0] / relative[-1])

plot_grad_norms({f"{i18n.label(kind)}-56": named for kind, named in norms.items()})
plt.show()

print(" " * 10 + "".join(i18n.pad(i18n.tr(f"grad_col_{column}"), 22)
                         for column in ("first_last", "spread", "relative")))
for kind, row in measured.items():
    print(i18n.pad(i18n.tr(kind), 10) + "".join(f"{value:<22.0f}" for value in row.values()))

assert measured["plain"]["first_last"] > 500  # the plain net's gradients grow to the input
assert measured["residual"]["spread"] < 20  # the twin's stay comparable
assert measured["plain"]["relative"] > 10 * measured["residual"]["relative"]

# %% [markdown]
# 梯度并没有消失，但普通网络的梯度**在不同深度上的尺度相差悬殊**：第一个卷积层的梯度大约是最后一个的一千倍（第一列）。后接批量规范化层的卷积层，无论权重多大，计算结果都一样，所以一步更新对它的改变取决于梯度与权重大小之比（最后一列）：在同一个学习率下，普通网络第一层相对自身大小的移动约为最后一层的一万倍，残差网络约为一百倍。在带批量规范化的深层普通网络中，梯度在反向传播时逐层增大（Yang等人，2019）；在残差网络中，梯度还能经过每一条跨层数据通路。
#
# **练习2。** 32层的残差网络双胞胎`cifar_resnet(5)`有多少个可训练的参数？答案是一个整数，算上批量规范化层的$\gamma$和$\beta$，不算滑动统计量。先手算（论文的表6记为0.46M），再检验。

# %%
answer_6_2 = ...  # your answer · 你的答案: an integer · 整数

# %%
exercises.check("06.2", answer_6_2)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
# n = 5 blocks per stage; each block: two 3x3 convs without bias and two BatchNorms.
widths, n = (16, 32, 64), 5
convs = 1 * 16 * 3 * 3 + sum(c_in * c_out * 3 * 3 + c_out * c_out * 3 * 3
                             for c_in, c_out in zip((16,) + widths[:-1], widths)) \
    + sum((n - 1) * 2 * c * c * 3 * 3 for c in widths)
batch_norms = 2 * 16 + sum(n * 2 * 2 * c for c in widths)
solution_6_2 = convs + batch_norms + 64 * 10 + 10
assert exercises.check("06.2", solution_6_2)

# %% [markdown]
# ## 更进一步
#
# **笔记中的跨层数据通路。** 在阶段改变形状的地方，笔记中的残差块会在跨层数据通路上放一个1×1卷积层：这是一个可学习的投影，它的权重和其他层一样参与训练。这样双胞胎的参数就不一样了，所以论文中的CIFAR网络使用上面那种没有参数的跨层数据通路（原文的“选项A”）。如果改用投影，20层的网络会多出两个1×1卷积层（16→32和32→64个通道）；论文的表6给出了使用选项A时的网络大小：

# %%
projection_20 = cifar_resnet(n=3, shortcut="projection")
print(count_parameters(projection_20) - count_parameters(residual_20))
for depth, millions in {20: 0.27, 32: 0.46, 44: 0.66, 56: 0.85}.items():
    print(f"{depth}: {count_parameters(cifar_resnet(depth_to_n(depth))):,} ({millions}M)")

# %% [markdown]
# **不同深度下的梯度。** 两种网络在几种深度下的梯度分布，以及每种深度下第一层与最后一层之比：普通网络的失衡随深度增加。

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

# the first conv's gradient norm over the last one's, at each depth
ratios = {kind: [by_depth[d][0][1] / by_depth[d][-1][1] for d in depths]
          for kind, by_depth in profiles.items()}
print(" " * 10 + "".join(f"{d:>10}" for d in depths))
for kind, values in ratios.items():
    print(i18n.pad(i18n.tr(kind), 10) + "".join(f"{v:10.1f}" for v in values))
assert all(a < b for a, b in zip(ratios["plain"], ratios["plain"][1:]))  # grows with depth

# %% [markdown]
# **动手试一试。** 换别的深度或规模，例如`degradation_experiment(train_images, train_labels, **run_config("smoke", depths=(8, 32), train_size=512, epochs=20))`。或者去掉批量规范化：把一个普通网络中的每个`nn.BatchNorm2d`换成`nn.Identity()`（遍历`net.named_modules()`并用`setattr`），把它的梯度范数画在其他曲线旁边。
