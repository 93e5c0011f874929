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
# # 残差块为什么有效
#
# **笔记之外。** 笔记给出了残差块的一个理由：如果新添加的层很容易成为恒等映射，那么它们不会让网络变差。笔记本06展示了结果：较深的普通网络比较浅的训练得更差，而它的残差网络孪生兄弟不会。本笔记本用此后几篇论文中的三种测量，在你自己运行的结果上找出原因：梯度如何分布在ResNet-18的各层上；删除一个块后，训练好的网络损失了什么（Veit等人，2016）；以及训练好的权重周围的损失是什么形状（Li等人，2018）。在默认预设下，在2核CPU上“全部运行”需要约12分钟。

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from d2lresnet import resnet18
from d2lresnet.data import load_fashion_mnist
from d2lresnet.experiments import gradients, landscape, lesion
from d2lresnet.experiments.degradation import run_config
from d2lresnet.experiments.twins import estimate_twins
from d2lresnet.presets import default_preset_name
from d2lresnet.train import init_weights

PRESET = default_preset_name()  # D2LRESNET_PRESET=smoke: every run below in seconds
train_images, train_labels = load_fashion_mnist(train=True)
test_images, test_labels = load_fashion_mnist(train=False)

# %% [markdown]
# ## ResNet-18中的梯度
#
# 取笔记中按其方式初始化（Xavier）的ResNet-18，以及去掉每条跨层数据通路的同一个网络：层和权重都相同，只是不再相加（跨层数据通路上的$1\times 1$卷积层也一并去掉）。在一个小批量上，我们求损失关于每个卷积层权重的梯度，并用梯度的范数除以这些权重的范数。这个比值是一步随机梯度下降相对于该层大小移动它的幅度；由于每个卷积层之后都有批量规范化，权重本身的大小不改变网络的计算结果。下面每行给出一个网络的“比值”，即其残差块中各卷积层的最大比值与最小比值之比，用三个种子，分别在初始化时和用笔记的训练方法简短训练之后测量。

# %%
def relative_gradients(nets, images=train_images[-64:], labels=train_labels[-64:]):
    return {label: gradients.conv_grad_norms(net, images, labels, relative=True)
            for label, net in nets.items()}


def spread(named_norms):
    """Largest over smallest relative gradient of the blocks' convolutions (the stem, b1,
    lies outside every block and is left out)."""
    values = [value for name, value in named_norms if not name.startswith("0.")]
    return max(values) / min(values)


RESIDUAL, PLAIN = "ResNet-18", i18n.label("resnet18_plain")
short = gradients.settings(PRESET)
at_init, trained, losses = [], [], []
for seed in (0, 1, 2):
    torch.manual_seed(seed)
    residual = resnet18()
    residual.apply(init_weights)  # the notes' Xavier init
    nets = {RESIDUAL: residual, PLAIN: gradients.without_shortcuts(residual)}
    at_init.append(relative_gradients(nets))
    losses.append({label: gradients.train_steps(net, train_images, train_labels, seed=seed,
                                                **short) for label, net in nets.items()})
    trained.append(relative_gradients(nets))

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
gradients.plot_grad_norms(at_init[0], ax=axes[0], relative=True)
gradients.plot_grad_norms(trained[0], ax=axes[1], relative=True)
axes[1].set_title(i18n.label("grad_title_trained", steps=short["steps"]))
plt.show()
for seed, (before, after, loss) in enumerate(zip(at_init, trained, losses)):
    for label in (RESIDUAL, PLAIN):
        print(i18n.tr("grad_spread_line", seed=seed, net=label, before=spread(before[label]),
                      after=spread(after[label]), loss=loss[label]))

# At initialisation the shortcuts keep the layers' steps within a narrower range.
assert all(spread(g[PLAIN]) > 2 * spread(g[RESIDUAL]) for g in at_init)
# Training evens out the plain network's steps: at 18 layers it still learns. (smoke's 10
# steps are too few and too noisy: with 2 threads instead of 1 they left seeds 0 and 1 uneven.)
if PRESET != "smoke":
    assert all(spread(a[PLAIN]) < spread(b[PLAIN]) / 2 for a, b in zip(trained, at_init))

# %% [markdown]
# 初始化时，普通网络的相对梯度从输入端到输出端急剧下降：在每个种子上，它的比值都超过ResNet-18的两倍，这正是笔记本06在56层网络上测到的失衡。短暂训练就把它拉平：普通网络的比值缩小一半以上（`smoke`步数太少）。在18层时，跨层数据通路给出的是更均衡的起点，而不是一个在普通网络学不动时仍能学习的网络；何恺明等人（2015）在ImageNet上也看到了这一点：18层普通网络和ResNet-18的误差差不多。造成差别的是深度，接下来的两种测量会说明这一点。
#
# ## 删除一个块
#
# Veit等人（2016）把残差网络看作许多路径的集合：在每个残差块处，信号可以经过残差分支，也可以沿跨层数据通路前进，所以$n$个残差块给出$2^n$条从输入到输出、长度各不相同的路径。测试时删除一个残差块，只会去掉经过其残差分支的路径；其余路径仍然计算它们在训练中计算的东西。普通网络只有一条路径：删除一个块，之后的每一层都会收到它从未见过的输入。
#
# 我们用预设的深度和训练方法，以一个种子训练笔记本06中的普通网络和残差网络孪生兄弟。然后逐个删除每个保持形状的块（其他块会改变通道数或大小，下一个块无法接收它们的输入），并测试剩下的网络。注意批量规范化：每次测试之前，无论是否删除了块，网络的运行统计量都在它的训练图像上重新测量，所以精度的下降是网络损失的东西，而不是过时的均值和方差。

# %%
config = run_config(PRESET)
seed = config["seeds"][0]
estimate_twins(**{**config, "seeds": (seed,)});
twins, _ = lesion.train_twins(train_images, train_labels, **config, seed=seed)
subset = lesion.training_subset(config["train_size"], seed)
size = lesion.settings(PRESET)["images"]
studies = {(kind, depth): lesion.lesion_study(net, train_images[subset[:size]],
                                              test_images[:size], test_labels[:size])
           for (kind, depth), net in twins.items()}
lesion.plot_lesions({i18n.label("twin", kind=i18n.label(kind), depth=depth): study
                     for (kind, depth), study in studies.items()})
plt.show()
for (kind, depth), study in studies.items():
    print(i18n.tr("lesion_line", net=i18n.tr("twin", kind=i18n.tr(kind), depth=depth),
                  intact=study["intact"], low=min(study["lesioned"]),
                  high=max(study["lesioned"]), drop=lesion.mean_drop(study)))

shallow, deep = config["depths"]
residual_study, plain_study = studies["residual", deep], studies["plain", deep]
# A residual network loses little per deleted block; its plain twin loses much more.
assert lesion.mean_drop(plain_study) > 3 * max(lesion.mean_drop(residual_study), 0.01)
assert min(plain_study["lesioned"]) < min(residual_study["lesioned"]) - 0.1

# %% [markdown]
# 删除一个块平均只让较深的残差网络损失很少的测试精度；它的普通网络孪生兄弟损失的精度是其数倍，有些删除甚至让它接近随机猜测（灰线）。这正是Veit等人在CIFAR-10和ImageNet上的发现：残差网络的行为就像许多较浅的网络一起投票，其中没有一个需要每一个残差块。
#
# ## 训练好的权重周围的损失
#
# Li等人（2018）画出训练损失在经过训练好的权重$\mathbf{w}$的一条直线和一个平面上的取值：$L(\mathbf{w} + \alpha \mathbf{d}_1 + \beta \mathbf{d}_2)$，其中$\mathbf{d}_1, \mathbf{d}_2$是随机方向。随机方向只有按网络缩放之后才有意义：经过批量规范化，一个滤波器的尺度不改变它的计算结果，所以方向中的每个滤波器都取$\mathbf{w}$中同一个滤波器的范数（**滤波器归一化**）；偏置以及批量规范化的拉伸参数γ和偏移参数β保持不变。和他们的代码一样，损失在评估模式下、用训练图像的运行统计量计算，这里用的是其中一个固定的子集，以及从$-1$到$1$的一个粗网格。

# %%
grid = landscape.settings(PRESET)
probe = subset[:grid["images"]]
X, y = lesion.as_batch(train_images[probe]), train_labels[probe]
line_steps, grid_steps = np.linspace(-1, 1, grid["line"]), np.linspace(-1, 1, grid["grid"])
lines, planes = {}, {}
for (kind, depth), net in twins.items():
    lesion.calibrate_batchnorm(net, lesion.as_batch(train_images[subset]))
    d1, d2 = (landscape.filter_normalized_direction(net, k) for k in (0, 1))
    lines[kind, depth] = landscape.loss_surface(net, X, y, [d1], [line_steps])
    planes[kind, depth] = landscape.loss_surface(net, X, y, [d1, d2], [grid_steps, grid_steps])


def labelled(surfaces):
    return {i18n.label("twin", kind=i18n.label(kind), depth=depth): surface
            for (kind, depth), surface in surfaces.items()}


landscape.plot_landscapes(labelled(lines), labelled(planes), line_steps, grid_steps)
plt.show()
rough = {key: landscape.roughness(lines[key]) + landscape.roughness(planes[key])
         for key in twins}
for (kind, depth), value in rough.items():
    print(i18n.tr("rough_line", net=i18n.tr("twin", kind=i18n.tr(kind), depth=depth),
                  line=landscape.roughness(lines[kind, depth]),
                  plane=landscape.roughness(planes[kind, depth])))

# Around the deeper residual twin the loss is one valley, up to bumps of hundredths of a
# decade along the lines of the grid.
assert rough["residual", deep] < 0.05
if deep >= 56:  # the paper's depth: plain-56 rough, residual-56 smooth
    assert rough["plain", deep] > rough["residual", deep] + 0.1

# %% [markdown]
# 粗糙度以损失的数量级为单位，度量损失沿网格的每条线在一次下降进入谷底和一次爬出谷底之外还上下起伏了多少：对任何陡峭程度的碗形曲面，它都是0。在较深的残差网络周围，损失落入同一个谷底，至多有微小的起伏。Li等人的结论是关于56层网络的：在那里，普通网络的损失是训练好的权重周围一片起伏不平的高原；当你的孪生网络有56层时，代码单元会检查这一点（`smoke`下不检查，它的孪生网络只有8层和20层，两种网络看起来都很平滑，和论文一致）。
#
# ## 练习
#
# 把每个`...`换成你的答案（一个值，或计算它的代码）并运行该单元格，然后运行下面的检查，它会告诉你是否正确，或者给出提示。

# %%
from d2lresnet import exercises

# %% [markdown]
# **练习1。** 按照Veit等人的读法，20层残差网络孪生兄弟有多少条从输入到输出的路径？在每个残差块处，一条路径要么经过残差分支，要么沿跨层数据通路前进（改变形状的两条跨层数据通路也算作跨层数据通路）。用一个整数作答。

# %%
answer_6b_1 = ...  # your answer · 你的答案

# %%
exercises.check("06b.1", answer_6b_1)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
blocks = 3 * 3  # three stages of n = 3 blocks; each block doubles the number of paths
solution_6b_1 = 2 ** blocks
assert exercises.check("06b.1", solution_6b_1)

# %% [markdown]
# **练习2。** 在这些路径中，有多少条恰好经过三个残差分支，并在其余每个残差块处都沿跨层数据通路前进？用一个整数作答。（大多数路径的长度居中，这是理解删除一个残差块为什么对残差网络影响很小的一种方式。）

# %%
answer_6b_2 = ...  # your answer · 你的答案

# %%
exercises.check("06b.2", answer_6b_2)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
import math

solution_6b_2 = math.comb(9, 3)  # which 3 of the 9 blocks the path passes through the branch
assert exercises.check("06b.2", solution_6b_2)
