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
# # 更深的网络：退化问题
#
# *笔记之外。* 笔记的6.1节从函数类讲起：只有当较复杂的函数类包含较小的函数类时，我们才能确保提高它们的性能。
# 落到深度神经网络上，笔记是这样说的：*如果我们能将新添加的层训练成恒等映射$f(\mathbf{x}) = \mathbf{x}$，新模型和原模型将同样有效。*
# 这样看来，更深的网络至少不会比较浅的网络差——**在训练数据上**。
#
# 可是，把层简单地堆叠起来的普通网络并不是这样。何恺明等人（2015）发现，56层的普通网络的*训练误差*比20层的还要高。
# 这不是过拟合（过拟合只会体现在测试集上），而是更深的网络更难优化。他们把这种现象称为**退化**（degradation）问题，6.2节的残差块就是他们给出的解决办法。
#
# 本节在Fashion-MNIST上训练两种深度的普通网络和残差网络，在你自己的运行结果上测出退化，然后再看看两种网络在初始化时的梯度。

# %%
import inspect
import math

import matplotlib.pyplot as plt
import torch
from IPython.display import Image, display
from torch import nn

from d2lresnet import count_layers, count_parameters, trace_shapes
from d2lresnet.data import load_fashion_mnist
from d2lresnet.experiments.degradation import (RECIPE, RUNS, degradation_experiment, load_results,
                                   plot_degradation, run_config)
from d2lresnet.experiments.gradients import conv_grad_norms, plot_grad_norms
from d2lresnet.presets import default_preset_name
from d2lresnet.experiments.twins import CifarBlock, cifar_resnet, depth_to_n

# The run's length follows D2LRESNET_PRESET: smoke (CI) half a minute, quick (a CPU) minutes,
# book (a GPU) the full run of the saved figure. PRESET = "book" runs the full one here.
PRESET = default_preset_name()
REFERENCE = "../figures/degradation"  # the full run: its figure (.png) and numbers (.json)

# %% [markdown]
# ## 普通网络与残差网络：一对“双胞胎”
#
# 为了只看到跨层连接本身的作用，我们需要一对**双胞胎**网络：层相同、参数数量相同、初始权重也相同，唯一的区别是每个块是否把输入加回去。
# 论文中用于CIFAR-10的网络（原文第4.2节）正是为此设计的，而且可以直接用于28×28的Fashion-MNIST图像：
#
# * 一个16通道的3×3卷积层；
# * 三个阶段，每个阶段有$n$个块，通道数分别为16、32和64；第二、第三阶段的第一个块把高和宽减半（步幅为2）；
# * 全局平均汇聚层和一个全连接层。
#
# 每个块有两个3×3卷积层，所以共有$6n + 2$个带权重的层：$n = 3$时为20层，$n = 9$时为56层。
# 残差网络用的就是笔记中的`Residual`；普通网络用的是同一个块，只是去掉了相加：

# %%
print(inspect.getsource(CifarBlock.forward))

# %% [markdown]
# 在改变形状的地方，笔记中的残差块会在跨层连接上放一个1×1卷积层。
# 这个卷积层是**可学习的投影**：它有自己的权重，和其他层的权重一样参与训练。
# 这样双胞胎的参数就不一样了，因此论文中的CIFAR网络在这里改用一种没有参数的跨层连接（原文的“选项A”）：每隔一个像素取一个，再在后面补上全零的通道。
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
# 每种深度的一对双胞胎都用第5节训练ResNet-18的同一个训练函数（`d2lresnet.train.train`）来训练，保留双胞胎自己的初始化，在同样的图像上使用同样的训练方法：
# 动量为0.9、权重衰减为$10^{-4}$的SGD，学习率按单周期（one-cycle）调度、最高为0.1，CPU支持时使用bfloat16自动混合精度。
# 训练误差在训练时逐个小批量统计，每个迭代周期记10个点；测试误差在每个迭代周期结束后计算。
#
# 和训练时一样，预设决定运行的长短：
#
# * `quick`（CPU上的默认值）：和论文的图一样是20层和56层，但图像和迭代周期都比完整运行少，需要若干分钟；
# * `book`（GPU上的默认值）：下面保存的那张图背后的完整运行。要在这里运行它，可以把上面单元格中的`PRESET`改成`"book"`，或者用`D2LRESNET_PRESET=book`启动Jupyter；在终端中运行：`python -m d2lresnet degradation --preset book`；
# * `smoke`（用于CI）：8层和32层，约半分钟。
#
# 下面根据完整运行的速度估计每种预设所需的时间：一个网络的计算量随图像数×迭代周期数×层数增长。完整运行是在一台不支持bf16（只有AVX2）的双核CPU上测得的，其间有一段时间这台机器还在做别的工作，所以这些估计偏慢；在支持bf16的CPU上大约快四倍。

# %%
saved = load_results(f"{REFERENCE}.json")


def work(run):
    """Images seen times layers passed, over all the nets of a run."""
    return 2 * run["epochs"] * run["train_size"] * sum(run["depths"])


minutes = {name: saved["config"]["seconds"] * work(run) / work(saved["config"]) / 60
           for name, run in RUNS.items()}
for name, run in RUNS.items():
    print(f"{name:6s} {minutes[name]:5.1f} min  {run}")
print(RECIPE)
assert minutes["smoke"] < minutes["quick"] / 5 and minutes["quick"] < minutes["book"] / 5

# %%
test_images, test_labels = load_fashion_mnist(train=False)
config = run_config(PRESET)
print(PRESET, config)
results = degradation_experiment(train_images, train_labels, test_images, test_labels,
                                 **config, log=None, progress=PRESET != "smoke")
plot_degradation(results)
plt.show()

# %% [markdown]
# **看什么。** 左图是普通网络，右图是残差网络，布局与论文的图6相同。
# 较深的普通网络的训练误差（细线）最后停在较浅的那个之上；同样深度的两个残差网络最后则靠得近得多，而且都在深的普通网络之下。
#
# 下面的单元格从这次运行中读出每个网络最后一个迭代周期的训练误差，并加以检验。
# 在每种预设下，更深的普通网络都训练得更差，而且差得明显。
# 至于跨层连接消除了深度带来的大部分代价，只在`quick`和`book`的运行上检验：`smoke`的运行太短，残差网络还没有稳定下来，深度给它们带来的代价随随机种子的不同而变化。

# %%
def final_train_error(results):
    """{kind: {depth: training error in the last epoch}}."""
    return {kind: {depth: history["train_err"][-1]
                   for depth, history in sorted(results[kind].items())}
            for kind in ("plain", "residual")}


def cost_of_depth(errors):
    """The deepest net's final training error minus the shallowest's, for each kind."""
    return {kind: by_depth[max(by_depth)] - by_depth[min(by_depth)]
            for kind, by_depth in errors.items()}


def show(errors):
    depths = sorted(errors["plain"])
    print(" " * 10 + "".join(f"{depth:>8}" for depth in depths) + f"{'Δ':>8}")
    for kind, by_depth in errors.items():
        print(i18n.pad(i18n.tr(kind), 10) + "".join(f"{by_depth[d]:8.3f}" for d in depths)
              + f"{cost_of_depth(errors)[kind]:+8.3f}")


errors = final_train_error(results)
show(errors)
cost = cost_of_depth(errors)
assert cost["plain"] > 0.05  # the deep plain net trains worse (smoke too: 3 seeds checked)
if PRESET != "smoke":  # too short for the residual twins to settle
    assert cost["residual"] < cost["plain"] / 2  # the shortcut takes away most of that
    assert errors["residual"][max(errors["residual"])] < errors["plain"][max(errors["plain"])]

# %% [markdown]
# ## 参考运行
#
# 完整运行（`book`）已经运行过一次，并连同数据一起保存了下来。下面是它的图和各网络最后的训练误差：

# %%
display(Image(f"{REFERENCE}.png"))
saved_steps = saved["config"]["epochs"] * math.ceil(saved["config"]["train_size"]
                                                    / saved["config"]["batch_size"])
print(saved["config"], saved_steps)
reference = final_train_error(saved)
show(reference)
reference_cost = cost_of_depth(reference)
assert saved["config"]["depths"] == list(RUNS["book"]["depths"])
assert saved["config"]["train_size"] == RUNS["book"]["train_size"]

# %% [markdown]
# 从20层加深到56层，普通网络的训练误差高了许多个百分点。
# 残差网络付出的代价小得多，但在我们的运行中并不是零：残差网络-56最后的训练误差比残差网络-20高几个百分点，与普通网络-20相当，远低于普通网络-56。
# 论文中更深的残差网络训练得比浅的更好；论文训练了64,000步，我们的参考运行只有大约700步（见上面的输出），更深的网络需要更长时间才能追上来。
# 我们的运行所显示的，是这个结论在短时间训练后依然成立的那一部分：跨层连接消除了深度带来的大部分代价，但不是全部。
# 在这样短的训练中，剩下的代价有多大，每次运行都不一样：同一实验较早的一次运行（在另一台CPU上用bf16，当时训练循环尚未统一）中，残差网络-56只比残差网络-20高一个百分点。

# %%
assert reference_cost["plain"] > 0.05  # plain-56 clearly worse than plain-20
assert 0 < reference_cost["residual"] < reference_cost["plain"] / 2  # pays, but far less
assert reference["residual"][56] < reference["plain"][56] - 0.05
assert abs(reference["residual"][56] - reference["plain"][20]) < 0.02  # about level
assert 650 < saved_steps < 750

# %% [markdown]
# **动手试一试。** 换别的深度或长度，例如在3,000张图像上训练8层和32层的普通网络和残差网络：
# `degradation_experiment(train_images, train_labels, test_images, test_labels, **run_config("quick", depths=(8, 32), epochs=3, train_size=3000))`。
#
# ## 初始化时的梯度
#
# 深的普通网络为什么难以训练？第一个猜测是*梯度消失*：梯度在反向穿过许多层时越来越小，于是前面的层几乎学不到东西。
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
# * 更深的普通网络可能比较浅的训练得*更差*：这就是退化问题。在你的运行和保存的参考运行中，深的普通网络最后的训练误差都明显高于浅的。
# * 层相同、初始权重也相同的残差网络，为深度付出的代价要小得多。在我们较短的参考运行中，残差网络-56最后仍比残差网络-20高（论文训练得久得多，结果是更低），与普通网络-20相当，远低于普通网络-56。
# * 笔记中跨层连接上的1×1卷积层是有自己权重的可学习投影；这里的双胞胎使用论文中没有参数的跨层连接，以保证二者完全一致。
# * 初始化时，深的普通网络的梯度并没有消失：越靠近输入，梯度越大，相差几个数量级，网络越深越明显；残差网络各层的梯度则始终相差不到大约一个数量级。
