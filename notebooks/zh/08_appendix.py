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
# # 8 附录：多快、在什么机器上、为什么
#
# 笔记6.4的最后一行是`52.9 examples/sec on cpu`。本笔记本收集了这一行背后、但不属于本课正文的内容：每个训练预设包含什么，保存的运行花了多长时间、在哪台机器上，放大图像增加了什么、改变了什么，bf16和`channels_last`做了什么，ResNet-18与普通卷积神经网络的比较，ResNet家族的乘加次数，ResNeXt的分组卷积，以及梯度沿预激活堆叠的跨层数据通路传递的情况（接笔记本07的练习4）。这里不训练任何网络：这些运行都测过一次，保存在`notebooks/figures/`中，这里只是读回来。在默认预设下，双核CPU上“全部运行”（Run All）约需20秒。

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

# %%
import json
import math
import statistics
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown
from torch import nn
from torch.nn import functional as F

from d2lresnet import (PreActResidual, ResNeXtBottleneck, Residual, architecture, count_layers,
                       count_parameters, resnet, resnet18)
from d2lresnet.data import CLASS_NAMES, FashionMNISTBatches, load_fashion_mnist
from d2lresnet.experiments.family import family_table, format_family_table
from d2lresnet.experiments.frontier import (compute_runs, compute_to, format_table, plot_compute,
                                            plot_frontier)
from d2lresnet.experiments.runs import book_flops, load_runs
from d2lresnet.experiments.twins import cifar_resnet, depth_to_n
from d2lresnet.experiments.versus import median_epoch_seconds, plot_versus
from d2lresnet.model import Bottleneck, plain_cnn
from d2lresnet.presets import PRESETS
from d2lresnet.shapes import count_flops, format_trace, trace_shapes
from d2lresnet.i18n import label, tr
from d2lresnet.machine import choose_precision, describe_machine

# %% [markdown]
# ## 每个训练方案的全部要素
#
# 下表直接从预设对象中读出，所以不会与实际运行的方案不一致。`resize`是图像缩放后的边长（`None`表示保持Fashion-MNIST原来的28）；`lr`是学习率（使用`one_cycle`时是它的峰值：学习率逐个小批量先升后降，在前`warmup`比例的训练步中上升）；`momentum`、`nesterov`和`weight_decay`是随机梯度下降的选项（动量、Nesterov动量和权重衰减）；`label_smoothing`（标签平滑）见下文；`augment`对每张训练图像做随机翻转和平移；`whiten_stem`让主干卷积层的卷积核从图像小块的白化开始（见下文速度纪录的技巧）；`progressive`让最初几个迭代周期用较小的图像训练；`test_flips`另外报告每张测试图像与其镜像取平均后的测试精度；`limit`和`test_limit`只保留每个数据集的前若干张图像。

# %%
ingredients = ["resize", "num_epochs", "batch_size", "lr", "one_cycle", "warmup", "momentum",
               "nesterov", "weight_decay", "label_smoothing", "augment", "progressive",
               "test_flips", "whiten_stem", "limit", "test_limit"]
table = "| | " + " | ".join(f"`{name}`" for name in PRESETS) + " |\n"
table += "|---" * (len(PRESETS) + 1) + "|\n"
table += "\n".join(f"| `{field}` | " + " | ".join(str(getattr(p, field)) for p in PRESETS.values())
                   + " |" for field in ingredients)
Markdown(table)

# %% [markdown]
# ## 为什么`quick`预设的损失总在0.5以上
#
# `quick`训练结束时，即使测试精度同样好，损失也远高于笔记中的0.011。原因在于标签平滑。设平滑系数为$\varepsilon$、类别数为$K$，类别为$y$的图像的目标不再是独热向量，而是$q = (1-\varepsilon)\,\mathrm{onehot}(y) + \varepsilon/K$（每个类别都分到$\varepsilon/K$）。交叉熵可以分解为$H(q, p) = H(q) + \mathrm{KL}(q\,\|\,p) \ge H(q)$：即使网络的预测恰好等于$q$，也要付出目标本身的熵，这就是损失的下限。下面的单元格为每个预设计算这个下限，并用PyTorch自己的损失在其最小值处（logits取$\log q$）核对。

# %%
def smoothed_target(smoothing, num_classes, true_class=0):
    target = torch.full((num_classes,), smoothing / num_classes)
    target[true_class] += 1 - smoothing
    return target


def loss_floor(smoothing, num_classes):
    """The entropy of the smoothed target: the least cross-entropy any prediction reaches."""
    return torch.special.entr(smoothed_target(smoothing, num_classes)).sum().item()


num_classes = len(CLASS_NAMES)
floors = {p.name: loss_floor(p.label_smoothing, num_classes) for p in PRESETS.values()}
for p in PRESETS.values():
    loss_fn = nn.CrossEntropyLoss(label_smoothing=p.label_smoothing)
    best_logits = smoothed_target(p.label_smoothing, num_classes).clamp_min(1e-12).log()
    at_minimum = loss_fn(best_logits[None], torch.tensor([0])).item()
    assert math.isclose(at_minimum, floors[p.name], abs_tol=1e-5), (p.name, at_minimum)
floors

# %% [markdown]
# 对于`quick`（$\varepsilon = 0.1$，10个类别），目标在真实类别上为0.91，在其余9个类别上各为0.01；它的熵$-0.91 \ln 0.91 - 9 \times 0.01 \ln 0.01$就是上面的0.50。只有高出下限的那部分损失才是网络还能消除的误差。`book`不做标签平滑，下限为0。

# %% [markdown]
# ## 多长时间、在什么机器上
#
# `python -m d2lresnet frontier`完全按`train --preset`的方式训练各个预设，并在每个迭代周期之后保存测试精度、从开始算起的实际耗时（含读取数据和每次评估），以及这段时间里其他程序占用了多少CPU：与其他程序共用机器的运行会在表中注明。本笔记本发布时，保存的文件中有三次运行，都在同一台不支持bf16的双核CPU（AVX2）上以fp32训练：笔记的`book`训练方案、`quick`和`best`。其中`quick`的运行是在它的主干卷积层改用白化之前做的，用的是书中的Xavier初始化：每一步的计算量相同，最终精度低千分之几（见下文）。图中横轴是耗时（对数坐标），纵轴是测试精度，虚线是笔记的0.919；单元格输出迭代周期耗时的中位数，以及像书中那样只统计计算步骤耗时得到的速度。要测量你自己的机器，运行`python -m d2lresnet frontier --presets quick --out notebooks/figures/frontier.png`（文件中已有的运行会保留）。

# %%
runs = load_runs("../figures/frontier.json")
for name, run in runs.items():
    rate = statistics.median(n / s for n, s in zip(run["examples"], run["compute_seconds"]))
    print(tr("run_epochs_line", name=name, minutes=median_epoch_seconds(run) / 60, rate=rate,
             precision=run["precision"], machine=run["machine"]))
plot_frontier(runs)
Markdown(format_table(runs))

# %%
quick, best, book = runs["quick"], runs["best"], runs["book"]
assert quick["test_acc"][-1] > book["test_acc"][-1] - 0.005  # level with the book's ten epochs
assert quick["wall_seconds"][-1] < book["wall_seconds"][-1] / 5  # in under a fifth of the time
assert best["test_acc"][-1] > quick["test_acc"][-1]  # best: better than quick, and slower
assert quick["wall_seconds"][-1] < best["wall_seconds"][-1] < book["wall_seconds"][-1]
for name, run in runs.items():
    print(tr("run_share_line", name=name, acc=run["test_acc"][-1],
             minutes=run["wall_seconds"][-1] / 60,
             share=run["wall_seconds"][-1] / book["wall_seconds"][-1]))

# %% [markdown]
# 在这台机器上，书中的10个迭代周期每个约需28分钟，共5小时，计算步骤每秒38个样本，笔记为52.9：这台机器比笔记所用的CPU慢。第一个迭代周期有别的任务同时使用CPU（JSON中的`seconds_note`写明了这一点；这次运行早于按迭代周期的记录），所以取中位数才公平。`quick`的结果与书中方案的10个迭代周期持平，0.922对0.921，却只用了29分钟，而不是301分钟；`best`继续提高到0.933，用了55分钟。上面的单元格检查了这些说法，并输出每次运行的耗时占书中方案的比例。在GPU上，每个预设都只要几分钟。

# %% [markdown]
# ## 达到一定精度所需的计算量
#
# 耗时等于计算量除以吞吐量，而只有吞吐量取决于机器。一个训练方案所花的计算量（一个样本前向和反向传播的浮点运算次数，由`count_flops(..., backward=True)`数出，乘以见过的样本数）在任何计算机上都相同。保存的对比实验（`notebooks/figures/recipes_gpu.json`：每个方案两个随机种子，由`python -m tools.gpu_runs --only recipes`在一块GPU上训练；其中的`quick`也是Xavier初始化的主干）把每个迭代周期的测试精度与到那时为止所花的计算量画在一起，计算量以书中方案96×96、10个迭代周期的计算量为单位。虚线是上面在这台CPU上训练的三次运行，计算量按同样的方法计数。检查的是：`quick`在CPU上和在GPU的两个随机种子上一样，都在同一个迭代周期（最后一个）首次达到0.92：达到一定精度所需的计算量属于训练方案，只有分钟数取决于机器。

# %%
sweep = json.loads(Path("../figures/recipes_gpu.json").read_text())["runs"]
by_compute = {**sweep, **{f"{name}/cpu": run for name, run in compute_runs(runs).items()}}
plot_compute(by_compute, goals=())
plt.show()

to_092 = [compute_to(by_compute[f"quick/{seed}"], 0.92) for seed in (0, 1, "cpu")]
assert max(to_092) - min(to_092) < 1e-12  # the same epoch on both GPU seeds and on this CPU
best_acc = max(max(run["test_acc"] + run["test_acc_flips"]) for run in by_compute.values())
print(tr("compute_to_line", share=max(to_092), best=best_acc))

# %% [markdown]
# `quick`在约七分之一的计算量时首次达到0.92（上面打印的数，取较差的种子）。对比实验中图像更小的运行（28到40像素，迭代周期也更少）只花二十分之一或更少的计算量，但停在0.90到0.91附近。所有运行中最好的是64×64的`best`，停在0.933，加不加测试时翻转都一样，在GPU的两个随机种子上和在这台CPU上都是如此。在与训练时不同的尺寸上测试会降低精度：在48像素上训练的`quick`，在48像素上测试为0.922，在44像素上为0.899，在52像素上为0.901（`python -m tools.gpu_runs --sides-of`）。

# %% [markdown]
# ## 速度纪录中的技巧，一次一个
#
# CIFAR-10上的速度纪录（airbench：在一块GPU上几秒钟达到94%；Page的“How to train your ResNet”）是由许多小改动组成的，每个改动大约值十分之一个百分点，差不多正是同一方案换一个随机种子时结果的波动。所以这里把每个技巧单独加到缩小到书中约二十分之一计算量的`quick`上（32×32的图像，4个迭代周期，批量大小128，书中的Xavier初始化的主干），用三个随机种子训练。图中每个点是一个随机种子，短竖线是它们的均值，虚线是基准的均值。测试时翻转、以及翻转加上2个像素的平移，是在同一批网络上测量的。这些运行由`python -m d2lresnet ablation`在2核CPU上完成，保存在`notebooks/figures/ablation.json`中。

# %%
from IPython.display import display

from d2lresnet.experiments import ablation

tricks = ablation.load("../figures/ablation.json", missing_ok=False)
ablation.plot_ablation(tricks)
plt.show()
display(Markdown(ablation.format_table(tricks)))

rows = {row["trick"]: row for row in ablation.rows(tricks)}
finals = {trick: [run["test_acc"][-1] for run in tricks["runs"].values()
                  if run["trick"] == trick] for trick in rows}
base_runs = [run for run in tricks["runs"].values() if run["trick"] == "base"]
assert min(finals["whiten_stem"]) > max(finals["base"])  # each whitened seed above the base
for trick in ("zero_init_residual", "bn_bias_lr_10x", "lookahead", "alternate_flips"):
    # the mean moves less than the trick's own seeds spread
    assert abs(rows[trick]["mean"] - rows["base"]["mean"]) < rows[trick]["spread"], trick
for trick in ("no_decay_norm_bias", "lr_0.2_smoothing_0.2", "warmup_0.15"):
    assert rows[trick]["mean"] < rows["base"]["mean"]  # worse on average,
    assert min(finals[trick]) < min(finals["base"]) - 0.01, trick  # one seed far below
assert all(run["test_acc_tta"] > run["test_acc"][-1] for run in base_runs)  # flips and shifts
assert all(row["compute_to"] is None for row in rows.values())  # no run reaches 0.92 here

# %% [markdown]
# 白化主干卷积层最为突出，和airbench的表中一样：它的每个随机种子都高于基准的每个随机种子，均值高约0.004，加上测试时翻转为0.914。其余技巧都没有帮助。把每个残差分支初始化为零、把批量规范化偏移参数β的学习率调大10倍、lookahead、交替翻转，使均值移动的幅度都没有超出它们自己几个随机种子之间的波动，尽管airbench把它们每一个都算作收益（在CIFAR-10上，目标是94%，用的是它自己的网络；这里是ResNet-18在Fashion-MNIST上训练4个迭代周期）。有三个技巧使均值变差，而且各有一个随机种子远低于基准的所有随机种子：去掉规范化层参数和偏置上的权重衰减；预热只占15%的步数而不是30%；学习率0.2加标签平滑0.2，而不是0.1和0.1。测试时的翻转和2个像素的平移在基准的每个随机种子上都增加约0.003，代价是在测试集上计算十遍而不是一遍。在这个计算量下没有一次运行达到0.92。
#
# 在`quick`自己的计算量下（48×48的图像，5个迭代周期，约为书中计算量的七分之一），白化主干卷积层与Xavier初始化的主干在三个随机种子上逐一比较，其余都与`quick`相同（`python -m d2lresnet train --preset quick --seed 1`：Xavier初始化的那些运行是在`quick`改用白化主干之前这样训练的）。图中每种颜色是一种主干初始化，每条线是一个随机种子，每个点是一个迭代周期。

# %%
pairs = compute_runs(load_runs("../figures/whiten_cpu.json"))
plot_compute(pairs, recipes=("xavier_stem", "whitened_stem", "whitened_4x128"), goals=(),
             xlim=(0.025, 0.2))
plt.show()
seeds = (0, 1, 2)
xavier = [pairs[f"xavier_stem/{seed}"]["test_acc"] for seed in seeds]
whitened = [pairs[f"whitened_stem/{seed}"]["test_acc"] for seed in seeds]
print(tr("whiten_pairs", xavier=" ".join(f"{acc[-1]:.4f}" for acc in xavier),
         whitened=" ".join(f"{acc[-1]:.4f}" for acc in whitened)))
assert min(acc[-1] for acc in xavier + whitened) >= 0.92  # every run ends at 0.92 or more
assert all(w[3] > x[3] for x, w in zip(xavier, whitened))  # whitened ahead after epoch 4, ...
gain_at_4 = statistics.mean(w[3] - x[3] for x, w in zip(xavier, whitened))
gain_at_end = statistics.mean(w[-1] - x[-1] for x, w in zip(xavier, whitened))
assert 0 < gain_at_end < gain_at_4 / 2  # ... by much less once the learning rate has decayed
shorter = [pairs[f"whitened_4x128/{seed}"] for seed in seeds]  # 4 epochs, batch 128
assert all(run["test_acc"][-1] >= 0.92 for run in shorter)  # 0.92 on every seed, ...
spent = {key: pairs[key]["book_compute_fraction"][-1] for key in pairs}
assert spent["whitened_4x128/0"] < 0.85 * spent["whitened_stem/0"]  # ... for a fifth less

# %% [markdown]
# 每次运行最终都达到0.92或更高。第4个迭代周期后，白化主干卷积层在每个随机种子上都领先（平均领先0.012；有一个白化的随机种子此时已经是0.920），但到训练结束只领先0.002，比随机种子之间的差别还小：它只是更早一点到达同一个地方，airbench报告的也是这样。它的每个迭代周期和Xavier初始化的主干花的时间一样。它在三种计算量下的每个随机种子上都领先，又不花额外的代价，所以现在`quick`用的就是它：笔记本05用它训练。更早到达也就可以缩短训练：白化之后用4个迭代周期、批量大小128训练（绿色），每个随机种子也都达到0.92或更高，计算量是书中方案的0.119，比`quick`的5个迭代周期少五分之一（`python -m d2lresnet train --preset quick --epochs 4 --batch-size 128`）。
#
# 在约为书中十分之一的计算量下（40×40的图像，4个迭代周期，0.103），基准和白化主干卷积层也以同样的方式各用三个随机种子训练。

# %%
tenth = ablation.load("../figures/ablation_tenth.json", missing_ok=False,
                      base=ablation.BUDGETS["1/10"])
ablation.plot_ablation(tenth)
plt.show()
display(Markdown(ablation.format_table(tenth)))
at_tenth = {trick: [run for run in tenth["runs"].values() if run["trick"] == trick]
            for trick in ("base", "whiten_stem")}
assert min(run["test_acc"][-1] for run in at_tenth["whiten_stem"]) > \
    max(run["test_acc"][-1] for run in at_tenth["base"])  # each whitened seed above the base
assert all(run["test_acc_tta"] >= 0.92 for run in at_tenth["whiten_stem"])  # with ten views
assert not any(run["test_acc_tta"] >= 0.92 for run in at_tenth["base"])
side = ablation.BUDGETS["1/10"][1]["resize"]
ten_views = 10 * 10_000 * count_flops(resnet18(), (1, 1, side, side))  # forward passes only
trained = at_tenth["base"][0]["book_compute_fraction"][-1]
print(tr("tta_cost", trained=trained, total=trained + ten_views / book_flops()))

# %% [markdown]
# 在十分之一的计算量下，白化主干卷积层同样领先约0.003，每个白化的随机种子也都高于基准的每个随机种子。有一个白化的随机种子单独达到0.92；加上测试时的翻转和2个像素的平移，三个随机种子都达到0.92，而基准没有一个达到。这十个测试视图并不是免费的：按训练计算量的同样方法计算，它们大约再增加七分之一（上面打印的数），仍少于`quick`的0.148。

# %% [markdown]
# airbench的表是叠加着做出来的：每个技巧都加在之前保留下来的技巧之上。这里保留下来的是白化，所以其他七个技巧又在二十分之一的计算量下重新训练了一遍，每次只在白化主干卷积层之上加一个，用同样的三个随机种子（`python -m d2lresnet ablation --budget 1/20+whiten`）；基准那一行就是第一张表中白化的那几次运行。

# %%
stacked = ablation.load("../figures/ablation_whitened.json", missing_ok=False,
                        base=ablation.BUDGETS["1/20+whiten"])
ablation.plot_ablation(stacked)
plt.show()
display(Markdown(ablation.format_table(stacked)))
on_whitened = {row["trick"]: row for row in ablation.rows(stacked)}
alone = on_whitened.pop("base")
for trick, row in on_whitened.items():
    # a little lower on average than whitening alone, by less than its seeds spread
    assert -alone["spread"] < row["mean"] - alone["mean"] < 0, trick
    assert row["flips"] < alone["flips"], trick  # with test-time flips as well
assert all(row["compute_to"] is None for row in on_whitened.values())  # none reaches 0.92
assert set(on_whitened) == set(rows) - {"base", "whiten_stem"}  # every other trick stacked
worst = {trick: min(run["test_acc"][-1] for run in stacked["runs"].values()
                    if run["trick"] == trick) for trick in on_whitened}
assert all(acc > min(finals["whiten_stem"]) - 0.004 for acc in worst.values())  # none far below

# %% [markdown]
# 在白化之上，它们都没有带来什么：每一个的平均值都比只用白化时略低，但差距小于白化自身各随机种子之间的差别；加上测试时的翻转也是如此。在airbench的表中（CIFAR-10、它自己的网络、达到94%）有用的技巧，并不能搬到在Fashion-MNIST上训练4个迭代周期的ResNet-18上。只用白化主干卷积层仍然是二十分之一计算量下找到的最好方案，但离0.92还差一些。有一点确实变了：在Xavier初始化的主干上，有三个技巧各让一个随机种子远远低于基准的每个随机种子，在这里却没有；没有哪个技巧的哪个随机种子比白化最差的随机种子低出0.004以上。白化让训练的开头更稳，只是这些技巧都没有因此带来提升。

# %% [markdown]
# 在十分之一的计算量下，其他技巧也用同样的方法叠加在白化主干卷积层之上（`python -m d2lresnet ablation --budget 1/10+whiten`）：先是在二十分之一时最接近只用白化的两个技巧——交替翻转和15%的预热，预热和基准各用五个随机种子；然后是其余五个，各用三个随机种子。

# %%
tenth_stacked = ablation.load("../figures/ablation_tenth_whitened.json", missing_ok=False,
                              base=ablation.BUDGETS["1/10+whiten"])
ablation.plot_ablation(tenth_stacked)
plt.show()
display(Markdown(ablation.format_table(tenth_stacked)))
at_tenth_whitened = {row["trick"]: row for row in ablation.rows(tenth_stacked)}
alone = at_tenth_whitened.pop("base")
assert all(row["mean"] < alone["mean"] for row in at_tenth_whitened.values())  # none adds
assert set(at_tenth_whitened) == set(rows) - {"base", "whiten_stem"}  # every other trick
gain = at_tenth_whitened["warmup_0.15"]["mean"] - alone["mean"]
assert abs(gain) < alone["spread"] / 10  # level with whitening alone over five seeds
warmup_flips = [run["test_acc_flips"] for run in tenth_stacked["runs"].values()
                if run["trick"] == "warmup_0.15"]
assert min(warmup_flips) < 0.92  # not every seed reaches 0.92 with test-time flips
tenth_finals = {}
for run in tenth_stacked["runs"].values():
    tenth_finals.setdefault(run["trick"], []).append(run["test_acc"][-1])
# every zero-initialised seed below every seed of whitening alone
assert max(tenth_finals["zero_init_residual"]) < min(tenth_finals["base"])

# %% [markdown]
# 在这里，每个技巧的平均值也都比只用白化时略低。在三个随机种子上，15%的预热看起来略高一些，只加测试时的翻转每个随机种子都达到0.92；给它和基准各加了两个随机种子之后，它与只用白化持平，而且有一个随机种子加上翻转仍低于0.92。更多的随机种子让这条线索消失了：这正是这里每个比较都需要多个随机种子的原因。代价最大的是把残差分支初始化为零：它的每个随机种子都低于只用白化的每个随机种子。这样每个残差块一开始都是恒等映射，也就是本章开头所说的嵌套函数类中最小的那个；但这并没有让这4个迭代周期的训练更快，反而让它们损失了大约半个百分点。

# %% [markdown]
# ## 放大不增加信息，却给了网络计算的空间
#
# 笔记本05把28×28的图像放大到96×96。双线性缩放是对这28×28个数的一个固定的线性映射，分别作用于行和列（$A X B^\top$，其中$A$和$B$的形状都是96×28），所以放大后的图像看作96×96的矩阵时，秩至多为28：它的9216个像素承载的仍然只是原来的784个数。它的96个奇异值中，除了前28个，其余都为零（只差舍入误差）。单元格输出一张测试图像在28×28和96×96下的秩（两者相同：放大既没有增加什么，也没有丢掉什么），以及其余68个奇异值中最大的一个与第一个之比。

# %%
images, labels = load_fashion_mnist(train=False)
X96, _ = next(iter(FashionMNISTBatches(images[:1], labels[:1], 1, resize=96)))
singular_values = torch.linalg.svdvals(X96[0, 0].double())
rank_28, rank_96 = (torch.linalg.matrix_rank(x.double(), rtol=1e-6).item()
                    for x in (images[0], X96[0, 0]))  # rtol: float32 rounding is not rank
assert X96.shape[-2:] == (96, 96) and singular_values[28:].max() < 1e-6 * singular_values[0]
assert rank_96 == rank_28 <= 28  # nothing added, nothing lost
rank_28, rank_96, (singular_values[28:].max() / singular_values[0]).item()

# %% [markdown]
# 所以放大并没有告诉网络关于这件衣服的任何新东西，却改变了网络能计算什么：ResNet-18把边长缩小为原来的1/32（见笔记本04），输入28×28时，b5只剩1×1的特征映射，它的3×3卷积层看到的大多是填充；输入96×96时，b5还有3×3。单元格输出三种尺寸下b5的边长和前向传播的计算量。这点空间在精度上值多少，保存的运行没有单独测出来：对比实验中图像更小的运行，迭代周期也更少。

# %%
net, sides = resnet18(), (28, 48, 96)
b5_side = {s: trace_shapes(net, (1, 1, s, s))[4].shape[-1] for s in sides}  # b1..b5, then the head
for s in sides:
    print(tr("b5_at_side", side=s, b5=b5_side[s],
             cost=count_flops(net, (1, 1, s, s)) / count_flops(net, (1, 1, 28, 28))))
assert b5_side[28] == 1 and b5_side[96] == 3

# %% [markdown]
# ## bf16和`channels_last`
#
# 在CPU上，训练的一步主要是卷积运算。`train`把图像和中间结果按`channels_last`存放（同一个像素的各个通道在内存中相邻），CPU上的卷积实现针对这种布局做了优化。在支持bf16指令（AVX-512 BF16或AMX）的CPU上，它还在`torch.autocast`下用bfloat16计算：每个数只占一半的字节，一条指令能处理两倍的数。没有这些指令时，bf16只能模拟，比fp32还慢，所以`train`保持fp32（`precision="fp32"`或`"bf16"`可以强制选择）。这台机器的选择是：

# %%
print(describe_machine(), "->", choose_precision(torch.device("cpu")))

# %% [markdown]
# `python -m d2lresnet bench`在你的机器上，用同一个网络和同样的批量，分别测量书中的输入流水线（每张图像用PIL缩放，多个工作进程）和我们的流水线的训练步骤耗时。
#
# ## ResNet-18与普通卷积神经网络的比较
#
# fastbook（第14章）先训练一个简单的卷积神经网络：若干步幅为2的卷积层，每层把图像的高和宽减半，然后是全局平均汇聚层；再用同样的训练方法训练一个ResNet，ResNet的结果更好。`plain_cnn`就是fastbook的`get_model`，改为单通道输入：五个步幅为2的3×3卷积层（各接批量规范化层和ReLU），通道数从16到256，最后是与ResNet-18相同的输出部分。单元格在28×28的输入上逐层查看它的形状，输出ResNet-18的参数数量和计算量各是它的多少倍，以及ResNet-18的b1在28×28输入下输出的边长。

# %%
cnn = plain_cnn()
print(format_trace(trace_shapes(cnn, (1, 1, 28, 28))))
param_ratio = count_parameters(resnet18()) / count_parameters(cnn)
flop_ratio = count_flops(resnet18(), (1, 1, 28, 28)) / count_flops(cnn, (1, 1, 28, 28))
stem_side = trace_shapes(resnet18(), (1, 1, 28, 28))[0].shape[-1]
assert stem_side == 7  # 28 -> 14 (7x7 conv, stride 2) -> 7 (max-pool, stride 2)
round(param_ratio), round(flop_ratio), stem_side

# %% [markdown]
# 两个网络都用`quick`训练方案（主干改用白化之前）在28×28的图像上训练，随机种子相同，小批量的顺序也相同，命令是`python -m d2lresnet versus --preset quick --resize 28 --out notebooks/figures/versus.png`。图中是每个迭代周期之后的测试精度；单元格输出两个网络最后的测试精度，以及ResNet-18一个迭代周期的耗时（中位数）是普通卷积神经网络的多少倍。

# %%
compared = json.loads(Path("../figures/versus.json").read_text())
nets = compared["nets"]
slower = median_epoch_seconds(nets["resnet18"]) / median_epoch_seconds(nets["plain_cnn"])
print({name: round(run["test_acc"][-1], 3) for name, run in nets.items()}, round(slower))
plot_versus(compared);

# %% [markdown]
# 五个迭代周期之后，两个网络不相上下（0.909对0.907），而ResNet-18每个迭代周期的耗时是普通卷积神经网络的33倍。这与fastbook的结果不同，而这次运行说明不了原因，因为比较中混杂了好几个因素：两个网络不只差在跨层数据通路上，深度（18层对5层）和规模（参数数量是28倍）也不同；ResNet-18的b1是为224像素的照片设计的，输入28×28时，到第一个残差块之前只剩7×7（笔记本04逐层查看了形状）；而只训练五个迭代周期的短方案，也可能对较小的网络有利。fastbook比较用的是Imagenette，即128像素的彩色照片。跨层数据通路本身起什么作用，要看笔记本06：那里的普通网络和残差网络是一对“双胞胎”，层完全相同。
#
# ## ResNet家族的乘加次数
#
# 笔记本07用一张表构建出论文表1中的整个家族。这里看它们的计算量：一次前向传播的乘加次数（GMACs），分别在笔记的96×96输入下，以及按torchvision的配置（3个输入通道，1000个类别）在ImageNet的224×224输入下计算，旁边是torchvision在其元数据中公布的数字（无须下载任何东西）。检查的是：每个成员与它相差都不到1%。

# %%
rows = family_table()
print(format_family_table(rows, ["model", "layers", "gmacs_96", "gmacs_224", "gmacs_torchvision"]))
for row in rows:
    assert abs(row["gmacs_224"] / row["gmacs_torchvision"] - 1) < 0.01, row["model"]

# %% [markdown]
# 论文表1有自己的“FLOPs”一行（指的是乘加次数）。两个由基本残差块组成的网络与它一致，但ResNet-50明显高于论文中的3.8，原因在于步幅放在哪一层。论文中步幅为2的瓶颈残差块在第一个1×1卷积层上把分辨率减半；torchvision（以及我们的`Bottleneck`）把步幅移到了3×3卷积层上（即“ResNet v1.5”，精度略高），于是这个1×1卷积层要在4倍的面积上计算。把步幅移回去，就得到论文中的数字：

# %%
table1_gmacs = {"ResNet-18": 1.8, "ResNet-34": 3.6, "ResNet-50": 3.8, "ResNet-101": 7.6,
                "ResNet-152": 11.3}  # He et al. 2015, Table 1, "FLOPs" (x 10^9)
for row in rows:
    if row["model"] not in table1_gmacs:
        continue
    with torch.device("meta"):  # shapes only
        v1 = architecture(row["model"].replace("ResNet-", "resnet"), in_channels=3,
                          num_classes=1000, torchvision_compat=True)
    for blk in v1.modules():  # the paper's bottleneck: the stride in conv1 (1x1), not conv2
        if isinstance(blk, Bottleneck) and blk.conv2.stride == (2, 2):
            blk.conv1.stride, blk.conv2.stride = (2, 2), (1, 1)
    gmacs_v1, paper = count_flops(v1, (1, 3, 224, 224)) / 2e9, table1_gmacs[row["model"]]
    print(tr("table1_line", model=row["model"], v15=row["gmacs_224"], v1=gmacs_v1, paper=paper))
    assert abs(gmacs_v1 / paper - 1) < 0.025  # Table 1 rounds to 0.1
    if row["block"] == "Bottleneck":
        assert abs(row["gmacs_224"] / paper - 1) > abs(gmacs_v1 / paper - 1)  # v1 is closer

# %% [markdown]
# ResNeXt-50（见笔记本07）是`ARCHITECTURES`中的又一项，也就是上表的最后一行。在torchvision的配置下，它的参数数量与torchvision的`resnext50_32x4d`完全相同，计算量与ResNet-50相当，而torchvision公布的权重在ImageNet上的top-1精度高出1.5个百分点：

# %%
by_name = {row["model"]: row for row in rows}
resnext, r50 = by_name["ResNeXt-50 (32x4d)"], by_name["ResNet-50"]
print(format_family_table([r50, resnext], ["model", "params_tv_config",
                                           "params_torchvision", "gmacs_224", "top1"]))
assert resnext["params_tv_config"] < r50["params_tv_config"]
assert abs(resnext["gmacs_224"] / r50["gmacs_224"] - 1) < 0.05
assert resnext["top1"] - r50["top1"] > 1

# %% [markdown]
# ## 加深的成本与收益
#
# 这是笔记本07练习5的测量。先看成本，以论文中6n+2层的CIFAR网络为例：每多6层，就在3个阶段中各加一个残差块，所以参数数量和计算量沿一条直线增长。在218层以内测量，再用这条直线预测论文中的1202层：

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
names = ["ResNet-18", "ResNet-34", "ResNet-50", "ResNet-101", "ResNet-152"]  # Table 1
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
gain = gain_per_gmac  # from ResNet-50 on, less per GMAC; ResNet-34 to 50 more than 18 to 34
assert gain["ResNet-34"] < gain["ResNet-50"] > gain["ResNet-101"] > gain["ResNet-152"]
assert top1["ResNet-152"] - top1["ResNet-101"] < 1 and gmacs["ResNet-152"] / gmacs["ResNet-101"] > 1.4

# %% [markdown]
# **自己试一试。** 对几个不同的深度，测量`cifar_resnet(depth_to_n(d))`训练一步所需的时间：时间也随深度线性增长吗？

# %% [markdown]
# ## ResNeXt：分组卷积
#
# D2L英文版在ResNet一节（*Residual Networks (ResNet) and ResNeXt*）中还介绍了ResNeXt（Xie等人，2017）。它保留了Inception的多条并行路径（见笔记本07），但让所有路径都一样，于是不必再为每条路径单独选定通道数。这些路径合起来就是**分组卷积**：把$c_i$个输入通道分成$g$组，每组$c_i/g$个通道，每组只用本组的输入算出本组的$c_o/g$个输出通道，也就是$g$个并排的独立卷积（单元格的第一个检查）。因此计算成本从$\mathcal{O}(c_i c_o)$降到$\mathcal{O}(g \cdot \frac{c_i}{g} \cdot \frac{c_o}{g}) = \mathcal{O}(c_i c_o / g)$，参数数量和乘加次数都只有原来的$1/g$（`grouped.weight`的形状是256×8×3×3，而不是256×256×3×3）。省下来的计算，ResNeXt拿去加宽网络：`Bottleneck`和torchvision的实现一样接受`groups`和`width_per_group`，ResNeXt-50（`32x4d`）有32组、每组4个通道（按每64个通道计）。于是在b2里，ResNet-50的3×3卷积层处理64个通道，ResNeXt处理128个，成本却差不多（在torchvision的配置下，它的参数数量与`resnext50_32x4d`相同）：

# %%
X = torch.randn(1, 256, 14, 14)
grouped = nn.Conv2d(256, 256, kernel_size=3, padding=1, groups=32)
parts = [F.conv2d(x, w, b, padding=1) for x, w, b in
         zip(X.chunk(32, dim=1), grouped.weight.chunk(32), grouped.bias.chunk(32))]
assert torch.allclose(grouped(X), torch.cat(parts, dim=1), atol=1e-5)
resnet_block_b2, resnext_block_b2 = Bottleneck(256, 64), ResNeXtBottleneck(256, 64)
print(resnext_block_b2.conv2)
assert resnext_block_b2.conv2.in_channels == 2 * resnet_block_b2.conv2.in_channels == 128
assert abs(count_parameters(resnext_block_b2) / count_parameters(resnet_block_b2) - 1) < 0.02

# %% [markdown]
# ## 预激活：贯穿整个堆叠的恒等映射通路
#
# 接笔记本07的练习4。
#
# 论文的要点在于许多残差块连在一起的时候。相加之后什么也没有，第$i$个块就恰好计算$\mathbf{x}_{i+1} = \mathbf{x}_i + F(\mathbf{x}_i)$，所以对任意一个块$l$和它之后的任意一个块$L$，
#
# $$\mathbf{x}_L = \mathbf{x}_l + \sum_{i=l}^{L-1} F(\mathbf{x}_i), \qquad
# \frac{\partial \ell}{\partial \mathbf{x}_l} = \frac{\partial \ell}{\partial \mathbf{x}_L}
# \Big(1 + \frac{\partial}{\partial \mathbf{x}_l} \sum_{i=l}^{L-1} F(\mathbf{x}_i)\Big).$$
#
# 无论堆叠多深，梯度的第一项都原样到达第$l$个块。如果每次相加之后都接ReLU，跨层数据通路就不再是恒等映射：每个ReLU在和为负的位置把梯度置零，这些零一个块接一个块地累积起来。
#
# 为了单独观察第一项，构造残差映射不传递梯度的块：权重为0（`zero_init_`），残差映射最后一层的偏置在每个通道上取一个有正有负的随机值。这样每个块只是加上一个常数，凡是到达输入的梯度都来自跨层数据通路。输入是非负的，就像经过ReLU之后那样。从堆叠了1到64个块的顶端反向传入一个随机梯度：

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
ax.set_xticks(depths, [str(d) for d in depths]), ax.legend(loc="center right"), plt.show()
post = intact[Residual]
print([round(v, 2) for v in post])
assert all(a >= b for a, b in zip(post, post[1:])) and post[-1] < post[0] / 2

# %% [markdown]
# 经过预激活残差块的堆叠，梯度在任何深度都完整地到达输入，输出也恰好等于输入加上各残差映射之和；经过原始结构的残差块，原样到达的比例随深度下降，因为堆叠深处的ReLU会截断前面的ReLU放过的部分。（实际的残差映射也传递梯度，即公式中的第二项；这里权重为0，把这一项关掉了。）完整的预激活网络像论文那样在汇聚层之前加一个批量规范化层和ReLU，层数与ResNet-18相同，参数数量和计算量相差都不到1%：

# %%
pre18, r18_net = resnet(block=PreActResidual), resnet18()
assert count_layers(pre18) == 18
assert abs(count_parameters(pre18) / count_parameters(r18_net) - 1) < 0.01
assert abs(count_flops(pre18, (1, 1, 96, 96)) / count_flops(r18_net, (1, 1, 96, 96)) - 1) < 0.01

# %% [markdown]
# ## 小结
#
# * 各个预设的区别在于图像大小、迭代周期数、学习率调度、动量、标签平滑、数据增广和主干卷积核的初始值；上表直接从`train`所用的对象中读出。
# * 笔记的训练方案在只支持AVX2的双核CPU上花了5小时（每个迭代周期28分钟，计算步骤每秒38个样本，笔记为52.9）；`quick`（当时还是Xavier初始化的主干）用29分钟达到同样的测试精度（0.922），`best`用55分钟达到0.933。用`frontier`测量你自己的机器。
# * 把28×28放大到96×96不增加信息（秩至多为28），却改变了网络的计算：b5得到3×3而不是1×1的特征映射，计算量是原来的9.7倍。
# * 在支持bf16指令的CPU上，`train`用bfloat16和`channels_last`计算。
# * 在28×28上训练五个迭代周期后，5层的普通卷积神经网络与ResNet-18不相上下，耗时只有ResNet-18的1/33；但这个比较混杂了好几个因素（深度、28倍的参数、从28缩到7的b1、只有五个迭代周期），说明不了跨层数据通路本身的作用。
# * 家族各成员的乘加次数与torchvision一致；ResNet-50比表1多出的部分来自v1.5的步幅位置。ResNeXt-50的成本与ResNet-50相当，ImageNet精度高1.5个百分点。
# * 论文中CIFAR网络的成本随深度线性增长；从ResNet-50起，每多一个GMAC换来的ImageNet精度越来越少。
# * ResNeXt让Inception的各条路径都一样，合成分组卷积：分组卷积的成本是$\mathcal{O}(c_i c_o / g)$，省下的计算让3×3卷积层宽了一倍。
# * 使用预激活时，跨层数据通路在整个堆叠中构成恒等映射：沿这条通路的梯度在任何深度都完整到达；而相加之后接ReLU时，梯度会被截断，堆叠越深截断得越多。
# * 标签平滑给损失设了下限，即平滑后目标的熵：`quick`和`best`是0.50，所以它们的损失不能与书中的比较。
# * 达到一定精度所需的计算量与机器无关：`quick`在约七分之一的计算量时达到0.92，`best`停在0.933。
# * 速度纪录的技巧中，只有白化主干卷积层的收益在每种计算量下都超出随机种子之间的波动；现在`quick`从它开始训练。没有一个技巧能在二十分之一的计算量内达到0.92。
