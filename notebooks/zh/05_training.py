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
# # 6.4 训练
#
# 笔记中写道：“在Fashion‐MNIST数据集上训练ResNet。”我们像笔记那样训练笔记本03中的ResNet-18，把我们的结果和笔记的结果放在一起对照，再看看网络学到了什么。
#
# **训练要花多长时间，由你决定。** 训练方案来自一个*预设*（preset），由环境变量`D2LRESNET_PRESET`选择（在启动JupyterLab之前设置）。CPU上的时间与其说取决于核数，不如说取决于CPU本身。下表是在两台双核机器上测得的：
#
# | 预设 | 用途 | 支持bf16的双核CPU（AVX-512） | 不支持bf16的双核CPU（AVX2） |
# |---|---|---|---|
# | `book` | 与笔记完全相同的训练方案 | 约一小时（一个迭代周期：362秒） | 实测：10个迭代周期，每个28分钟（共5小时），测试精度0.921 |
# | `quick` | 同一个网络，为CPU设计的训练方案 | 757秒，测试精度0.924 | 预计约一小时（实测训练步：48×48时每秒80个样本） |
# | `best` | 约半小时内的最好结果 | 尚未测量 | 尚未测量 |
# | `smoke` | 只检查代码能否运行（CI使用） | 几秒钟 | 几秒钟 |
#
# 在GPU上，每个预设都只要几分钟。不设置这个变量时，有GPU就用`book`，只有CPU就用`quick`。在终端中也可以运行同样的训练：`python -m d2lresnet train --preset quick`；`python -m d2lresnet frontier`则在你的机器上把它们逐一测量一遍（见最后一节）。

# %%
import json
import math
import tempfile
from pathlib import Path

import torch
from IPython.display import Markdown
from torch import nn

from d2lresnet import count_parameters, resnet18
from d2lresnet.data import (CLASS_NAMES, FashionMNISTBatches, class_names,
                            get_fashion_mnist_labels, load_data_fashion_mnist,
                            load_fashion_mnist)
from d2lresnet.drawing.plots import plot_confusion_matrix, show_images
from d2lresnet.presets import PRESETS, get_preset
from d2lresnet.shapes import count_flops, format_trace, trace_shapes
from d2lresnet.train import evaluate_accuracy, predict, train, try_gpu

preset = get_preset()
device = try_gpu()
preset.name, device

# %% [markdown]
# ## 每个训练方案的全部要素
#
# 下表直接从预设对象中读出，所以不会与实际运行的方案不一致。`resize`是图像缩放后的边长（`None`表示保持Fashion-MNIST原来的28）；`lr`是学习率（使用`one_cycle`时是它的峰值：学习率逐个小批量先升后降；不使用时学习率保持不变）；`momentum`、`nesterov`和`weight_decay`是随机梯度下降的选项（动量、Nesterov动量和权重衰减）；`label_smoothing`（标签平滑）在下文解释；`augment`对每张训练图像做随机翻转和平移；`limit`和`test_limit`只保留每个数据集的前若干张图像。
#
# `book`预设就是笔记中的那一行`lr, num_epochs, batch_size = 0.05, 10, 256`，再加上`resize=96`和不带任何选项的随机梯度下降；断言检查了这一点。

# %%
ingredients = ["resize", "num_epochs", "batch_size", "lr", "one_cycle", "momentum",
               "nesterov", "weight_decay", "label_smoothing", "augment", "progressive",
               "test_flips", "limit", "test_limit"]
table = "| | " + " | ".join(f"`{name}`" for name in PRESETS) + " |\n"
table += "|---" * (len(PRESETS) + 1) + "|\n"
table += "\n".join(f"| `{field}` | " + " | ".join(str(getattr(p, field)) for p in PRESETS.values())
                   + " |" for field in ingredients)
book = PRESETS["book"]
assert (book.lr, book.num_epochs, book.batch_size, book.resize) == (0.05, 10, 256, 96)
assert book.momentum == book.weight_decay == book.label_smoothing == 0
assert not (book.nesterov or book.one_cycle or book.augment or book.limit or book.test_limit)
Markdown(table)

# %% [markdown]
# ## 数据：Fashion-MNIST
#
# Fashion-MNIST有70,000张28×28的灰度服装图像，分为10个类别，其中60,000张用于训练，10,000张用于测试。数据加载器把整个数据集以字节形式保存在内存中，每次只缩放一个小批量，这正是在CPU上训练变得可行的原因（见`python -m d2lresnet bench`）。

# %%
torch.manual_seed(0)
train_iter, test_iter = load_data_fashion_mnist(
    preset.batch_size, resize=preset.resize, augment=preset.augment,
    limit=preset.limit, test_limit=preset.test_limit, progressive=preset.progressive)
X, y = next(iter(test_iter))
side = preset.resize or 28
assert X.shape == (min(preset.batch_size, len(test_iter.labels)), 1, side, side)
assert 0 <= X.min() and 0.5 < X.max() <= 1  # ToTensor's range: no normalisation, as in the book
show_images(X[:18], 3, 6, titles=get_fashion_mnist_labels(y[:18]));

# %% [markdown]
# ### 为什么是96×96？
#
# ResNet-18是为ImageNet的224×224图像设计的。D2L在GoogLeNet一节中就已经缩小了输入，理由是速度：“为了使Fashion-MNIST上的训练短小精悍，我们将输入的高和宽从224降到96，这简化了计算。”
#
# 但从Fashion-MNIST的角度看，这一步的方向正好相反：28×28的图像被*放大*到96×96。放大并不增加信息。双线性缩放是对这28×28个数的一个固定的线性映射，分别作用于行和列（$A X B^\top$，其中$A$和$B$的形状都是96×28），所以放大后的图像看作96×96的矩阵时，秩至多为28：它的9,216个像素承载的仍然只是原来的784个数。它的96个奇异值中，除了前28个，其余都为零（只差舍入误差）；下面的单元格输出其余68个奇异值中最大的一个与第一个奇异值之比。

# %%
one_picture = FashionMNISTBatches(test_iter.images[:1], test_iter.labels[:1], 1, resize=96)
X96, _ = next(iter(one_picture))
singular_values = torch.linalg.svdvals(X96[0, 0].double())
assert X96.shape[-2:] == (96, 96) and len(singular_values) == 96
assert singular_values[28:].max() < 1e-6 * singular_values[0]
(singular_values[28:].max() / singular_values[0]).item()

# %% [markdown]
# 不过，放大会增加计算量。下面统计一次前向传播在各个输入尺寸下的浮点运算次数：

# %%
counting_net = resnet18()
flops = {side: count_flops(counting_net, (1, 1, side, side)) for side in (28, 96, 224)}
cost_28_to_96 = flops[96] / flops[28]
saving_224_to_96 = flops[224] / flops[96]
pixel_ratio = (96 / 28) ** 2
map_sides = {side: [row.shape[-1] for row in trace_shapes(counting_net, (1, 1, side, side))[:5]]
             for side in (28, 96)}
assert 9 < cost_28_to_96 < pixel_ratio
assert map_sides == {28: [7, 7, 4, 2, 1], 96: [24, 24, 12, 6, 3]}
print(f"{cost_28_to_96=:.2f}  {pixel_ratio=:.2f}  {saving_224_to_96=:.2f}")
map_sides

# %% [markdown]
# 在96×96下，一张图像的计算量约为它在原始28×28下的十倍，略少于像素数之比11.8：在28×28下，b1到b5输出的特征图宽分别为7、7、4、2和1个像素，而7不能被2整除（向上取整为4），所以与96×96（24、12、6、3）相比，最后三个模块相对保留了更多的计算。与ImageNet的224相比，同一步节省了约五倍的计算：这就是D2L的理由。在28×28下网络照样可以运行（`smoke`预设就在28×28下训练），只是b5只能看到一个像素。
#
# ## 训练
#
# `train`就是D2L中的`train_ch6`：Xavier初始化、随机梯度下降、交叉熵损失，每个迭代周期结束后报告训练损失、训练精度和测试精度。下面的图会随着训练不断重绘。有两处不同，分别关系到结果是否诚实和训练的速度：
#
# * examples/sec是**端到端**的速度（包括读取和缩放数据的时间），而D2L只计计算步骤的时间（我们也输出这个数字，并注明其含义）；
# * 在支持bf16指令的CPU上，运算以bfloat16进行（`torch.autocast`），并使用`channels_last`内存布局；`precision="fp32"`可以关闭这些。

# %%
torch.manual_seed(0)
net = resnet18()
history = train(net, train_iter, test_iter, preset.num_epochs, preset.lr, device,
                **preset.train_options())
print(history.summary())

# %% [markdown]
# 检查以下几点：每个迭代周期一条记录；训练损失有所下降；测试精度高于“总是回答测试集中最常见的类别”所能得到的精度。完整的训练还要做得更好：`quick`要达到0.90，`book`却只要求0.80，因为它最后一个迭代周期的测试精度只是几个百分点摆动中的一次抽样（下面保存的那次运行最后是0.921，前一个迭代周期还只有0.845）。

# %%
majority_share = torch.bincount(test_iter.labels).max().item() / len(test_iter.labels)
assert len(history.test_acc) == preset.num_epochs
assert history.train_loss[-1] < history.train_loss[0]
assert history.test_acc[-1] > majority_share, (history.test_acc, majority_share)
trained_at_least = {"book": 0.80, "quick": 0.90}
if preset.name in trained_at_least:
    assert history.test_acc[-1] >= trained_at_least[preset.name], history.test_acc
majority_share

# %% [markdown]
# ## 与笔记和D2L的结果对照
#
# 笔记的运行（在CPU上以96×96训练10个迭代周期）输出了
#
# ```
# loss 0.011, train acc 0.997, test acc 0.919
# 52.9 examples/sec on cpu
# ```
#
# D2L中文版2.0在GPU上输出了`loss 0.012, train acc 0.997, test acc 0.893`，速度为5032.7 examples/sec（两者都只计计算步骤的时间）：
#
# | 运行 | loss | train acc | test acc | 速度（只计计算步骤） |
# |---|---|---|---|---|
# | 笔记（CPU） | 0.011 | 0.997 | 0.919 | 52.9 examples/sec |
# | D2L中文版2.0（GPU） | 0.012 | 0.997 | 0.893 | 5032.7 examples/sec |
#
# `book`预设就是这个训练方案。我们在一台不支持bf16的双核CPU（AVX2）上把它的10个迭代周期完整训练了一次，命令是`python -m d2lresnet frontier --presets book --checkpoints runs/ --out notebooks/figures/frontier.png`（`--checkpoints`在每个迭代周期之后保存一次，所以要训练几个小时的运行可以中途停下、之后接着训练）。它把每个迭代周期的结果保存在`notebooks/figures/frontier.json`中。下面的单元格读回这次运行，检查它用的是今天的`book`训练方案，按笔记的格式输出最后一个迭代周期的结果，并画出`train`在训练过程中画的那张图。

# %%
import statistics

from d2lresnet.experiments.frontier import load_runs
from d2lresnet.drawing.plots import ProgressPlot
from d2lresnet.presets import Preset
from d2lresnet.experiments.versus import median_epoch_seconds

book_run = load_runs("../figures/frontier.json")["book"]
assert Preset(**book_run["recipe"]) == book  # the saved run used today's `book` recipe
assert book_run["epochs"] == len(book_run["test_acc"]) == book.num_epochs
loss, train_acc, test_acc = (book_run[k][-1] for k in ("train_loss", "train_acc", "test_acc"))
rate = statistics.median(n / s for n, s in zip(book_run["examples"], book_run["compute_seconds"]))
epoch_minutes = median_epoch_seconds(book_run) / 60
print(f"loss {loss:.3f}, train acc {train_acc:.3f}, test acc {test_acc:.3f}")
print(f"{rate:.1f} examples/sec on {book_run['device']} (compute step, median epoch)")
print(f"{epoch_minutes:.0f} minutes an epoch (median), {book_run['machine']}")
ProgressPlot.replay(book_run);

# %% [markdown]
# 最后一行与笔记的结果几乎分毫不差：测试精度0.921，笔记为0.919；损失0.015，笔记为0.011。不过不要把第三位小数看得太重，上图说明了原因。训练精度每个迭代周期都在上升；测试精度在前四个迭代周期里上升，之后在相邻的迭代周期之间来回摆动几个百分点：倒数第二个迭代周期之后，它只有0.845。学习率直到最后一步都是0.05，所以随机梯度下降始终没有稳定下来，第10个迭代周期的测试精度只是这种摆动中的一次抽样。笔记的0.919和D2L的0.893是同一训练方案的另外两次抽样。这正是`quick`和`best`预设在最后一个迭代周期把学习率降到接近零（单周期学习率调度）的原因。
#
# 第一个迭代周期结束时，测试精度反而*高于*训练精度：训练精度是在整个迭代周期上取的平均，而那时网络还在学习。到训练结束时，训练精度已明显高于测试精度。这个差距就是过拟合：D2L的训练方案中没有任何正则化。这台CPU每秒计算38个样本，笔记为52.9（两者都只计计算步骤），所以这里一个迭代周期约需28分钟。下面的单元格用这次运行核对这几句话。

# %%
train_accs, test_accs = book_run["train_acc"], book_run["test_acc"]
assert abs(test_acc - 0.919) < 0.005 and abs(loss - 0.011) < 0.005  # the notes' last line
assert all(a < b for a, b in zip(train_accs, train_accs[1:]))  # train acc: up every epoch
assert all(a < b for a, b in zip(test_accs[:3], test_accs[1:4]))  # test acc: up for four
swing = max(test_accs[3:]) - min(test_accs[3:])
assert swing > 0.05 and test_accs[-2] < 0.85, test_accs  # then it swings
assert PRESETS["quick"].one_cycle and PRESETS["best"].one_cycle and not book.one_cycle
assert test_accs[0] > train_accs[0] and train_acc - test_acc > 0.05  # overfitting at the end
assert round(rate) == 38 and round(epoch_minutes) == 28
print(f"test acc swings by {swing:.3f} after epoch 4; "
      f"train acc minus test acc: {train_accs[0] - test_accs[0]:.3f} after epoch 1, "
      f"{train_acc - test_acc:.3f} after epoch {book_run['epochs']}")

# %% [markdown]
# 你自己这次运行的两行结果输出在上面训练单元格的下方。作为参照：Fashion-MNIST的基准表中，使用数据增广训练的ResNet-18达到0.949，人类为0.835。
#
# ### 为什么`quick`预设的损失总在0.5以上
#
# `quick`预设训练结束时的损失远高于笔记中的0.011，尽管它的测试精度（实测0.924）同样好。原因在于标签平滑。设平滑系数为$\varepsilon$、类别数为$K$，类别为$y$的图像的目标不再是独热向量，而是$q = (1-\varepsilon)\,\mathrm{onehot}(y) + \varepsilon/K$（每个类别都分到$\varepsilon/K$）。交叉熵可以分解为$H(q, p) = H(q) + \mathrm{KL}(q\,\|\,p) \ge H(q)$：即使网络的预测恰好等于$q$，也要付出目标本身的熵。这个熵就是损失的下限。下面的单元格为每个预设计算这个下限，用PyTorch自己的损失在其最小值处（logits取$\log q$）核对，并检查本次运行的损失高于所用预设的下限。

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
floor = floors[preset.name]
assert history.train_loss[-1] > floor
print(f"{history.train_loss[-1] - floor = :.3f}")
floors

# %% [markdown]
# 对于`quick`（$\varepsilon = 0.1$，10个类别），目标在真实类别上为0.91，在其余9个类别上各为0.01；它的熵$-0.91 \ln 0.91 - 9 \times 0.01 \ln 0.01$就是上面的0.50。`quick`运行的最终损失中有0.50是下限；只有输出的差值（损失减去下限）才是网络还能消除的误差。`book`训练方案不做标签平滑，下限为0，所以笔记中的损失可以降到0.011。
#
# ### 有无数据增广时的训练精度
#
# `train`输出的训练精度是在最后一个迭代周期中测得的，用的是网络当时看到的图像：如果预设做数据增广（`quick`就做），这些图像是翻转和平移过的；同时权重还在变化，批量规范化处于训练模式。让训练好的网络在评估模式下处理未经增广的训练图像，得到的是另一种读数。我们取与测试集同样多的训练图像（10,000张，只需几秒钟）来测量。

# %%
n_plain = min(len(test_iter.labels), len(train_iter.labels))
plain_train_iter = FashionMNISTBatches(train_iter.images[:n_plain], train_iter.labels[:n_plain],
                                       preset.batch_size, resize=preset.resize)
plain_train_acc = evaluate_accuracy(net, plain_train_iter, precision=history.precision)
print(f"{preset.augment = }\n{history.train_acc[-1] = :.3f}\n{plain_train_acc = :.3f}\n"
      f"{history.test_acc[-1] = :.3f}")

# %% [markdown]
# ## 网络容易混淆什么？
#
# 混淆矩阵对每个真实类别（行）统计网络预测为各个类别（列）的次数。对角线上是预测正确的数目。检查时从磁盘重新读取测试标签，不经过数据迭代器：每一行的和必须等于该类测试图像的数目（完整测试集中每类1,000张），对角线上正确的数目必须等于`train`在最后一次测试中统计的数目。

# %%
labels, predictions, probabilities = predict(net, test_iter, precision=history.precision)
matrix = plot_confusion_matrix(labels, predictions)
_, labels_on_disk = load_fashion_mnist(train=False)
labels_on_disk = labels_on_disk[:preset.test_limit]
class_counts = torch.bincount(labels_on_disk, minlength=num_classes)
assert torch.equal(labels, labels_on_disk)  # predict kept the test set's order
assert torch.equal(matrix.sum(dim=1), class_counts)
if preset.test_limit is None:
    assert class_counts.tolist() == [1000] * num_classes
assert matrix.trace().item() == round(history.test_acc[-1] * len(labels))

# %% [markdown]
# 预计错误集中在上身服装之间：衬衫、T恤、套衫和外套在28×28下看起来很像。对角线之外最大的计数指出最常被混淆的一对类别（对于训练充分的网络，断言检查这两类都在这四类之中）。

# %%
off_diagonal = matrix - torch.diag(matrix.diag())
true_class, predicted_class = divmod(off_diagonal.argmax().item(), num_classes)
if preset.name in ("book", "quick"):
    upper_body = {"t-shirt", "pullover", "coat", "shirt"}
    assert {CLASS_NAMES[true_class], CLASS_NAMES[predicted_class]} <= upper_body
names = class_names()  # in the notebook's language
names[true_class], names[predicted_class], off_diagonal.max().item()

# %% [markdown]
# 下面是网络最有把握却答错了的测试图像。每张图上方是网络的回答及其概率，下一行“≠”之后是真实标签。其中有些连人也难以判断；Fashion-MNIST中也有少数标签本身就是错的。检查时让网络只对这几张图像再预测一次：结果必须相同，这说明画出的正是被评判的那些图像。

# %%
wrong = (predictions != labels).nonzero().flatten()
confidence = probabilities.max(dim=1).values[wrong]
worst = wrong[confidence.argsort(descending=True)[:8]]
again = FashionMNISTBatches(test_iter.images[worst], test_iter.labels[worst], len(worst),
                            resize=preset.resize)
_, again_predictions, again_probabilities = predict(net, again, precision=history.precision)
assert torch.equal(again_predictions, predictions[worst])
assert torch.allclose(again_probabilities, probabilities[worst], atol=0.02)
show_images(test_iter.images[worst], 2, 4, scale=2,  # 8 pictures, 2 rows
            titles=[f"{names[predictions[i]]} {probabilities[i].max():.2f}\n"
                    f"≠ {names[labels[i]]}" for i in worst]);

# %% [markdown]
# ## 保存和重新加载训练好的模型
#
# 保存权重（`state_dict`），而不是整个对象：状态字典只是普通的张量，用`weights_only=True`加载时不会执行文件中的任何代码。文件里就是这些张量，几乎没有别的；重新加载的网络对每张测试图像的预测都与原来相同。单元格输出文件的大小（MB）和参数的数量。

# %%
with tempfile.TemporaryDirectory() as folder:  # deleted, file and all, when the block ends
    path = Path(folder) / "resnet18_fashion_mnist.pt"
    torch.save(net.state_dict(), path)
    megabytes = path.stat().st_size / 1e6
    reloaded = resnet18()
    reloaded.load_state_dict(torch.load(path, weights_only=True))
assert not Path(folder).exists()  # nothing left behind on disk
tensor_megabytes = sum(t.numel() * t.element_size() for t in net.state_dict().values()) / 1e6
assert tensor_megabytes <= megabytes < tensor_megabytes + 0.1
_, reloaded_predictions, _ = predict(reloaded.to(device), test_iter, precision=history.precision)
assert torch.equal(reloaded_predictions, predictions)
print(f"{megabytes:.1f} MB, {count_parameters(reloaded):,}")

# %% [markdown]
# ## ResNet-18与普通卷积神经网络的比较
#
# fastbook（第14章）先训练一个简单的卷积神经网络：若干步幅为2的卷积层，每层把图像的高和宽减半，然后是全局平均汇聚层；再用同样的训练方法训练一个ResNet，ResNet的结果更好。我们在Fashion-MNIST上做同样的比较。`plain_cnn`就是fastbook的`get_model`，改为单通道输入：五个步幅为2的3×3卷积层（各接批量规范化层和ReLU），通道数从16到256，最后是与ResNet-18相同的输出部分。没有残差块，也没有跨层连接。下面的单元格在28×28的输入上逐层查看它的形状，然后输出它的参数数量，以及ResNet-18的参数数量和（每张28×28图像的）计算量各是它的多少倍。

# %%
from d2lresnet.model import plain_cnn

cnn = plain_cnn()
print(format_trace(trace_shapes(cnn, (1, 1, 28, 28))))
sides = [row.shape[-1] for row in trace_shapes(cnn, (1, 1, 28, 28))[:5]]
assert sides == [14, 7, 4, 2, 1]  # each layer halves the side (rounding up): 28 -> 1
param_ratio = count_parameters(resnet18()) / count_parameters(cnn)
flop_ratio = (count_flops(resnet18(), (1, 1, 28, 28))
              / count_flops(cnn, (1, 1, 28, 28)))
assert param_ratio > 20 and flop_ratio > 20
count_parameters(cnn), round(param_ratio), round(flop_ratio)

# %% [markdown]
# 两个网络都用`quick`训练方案在28×28的图像上训练（只改了图像大小，好让ResNet-18在CPU上训练得快一些），随机种子相同，小批量的顺序也相同，命令是`python -m d2lresnet versus --preset quick --resize 28 --out notebooks/figures/versus.png`。下面的单元格读取保存的结果，检查它训练的正是今天的这两个网络、用的是同一个训练方案，然后输出训练方案、两个网络最后的测试精度，以及ResNet-18一个迭代周期的耗时是普通卷积神经网络的多少倍（取各迭代周期耗时的中位数：ResNet-18训练时，有两个迭代周期有别的任务在同时使用CPU）。图中是每个迭代周期之后的测试精度。

# %%
from d2lresnet.experiments.versus import plot_versus

compared = json.loads(Path("../figures/versus.json").read_text())
nets = compared["nets"]
assert nets["plain_cnn"]["params"] == count_parameters(cnn)
assert nets["resnet18"]["params"] == count_parameters(resnet18())
assert nets["plain_cnn"]["about"] == nets["resnet18"]["about"]  # one recipe for both
final = {name: run["test_acc"][-1] for name, run in nets.items()}
slower = median_epoch_seconds(nets["resnet18"]) / median_epoch_seconds(nets["plain_cnn"])
assert abs(final["resnet18"] - final["plain_cnn"]) < 0.01  # level after five epochs
assert slower > 10
print(compared["recipe"])
print({name: round(acc, 3) for name, acc in final.items()}, round(slower))
plot_versus(compared);

# %% [markdown]
# 五个迭代周期之后，两个网络不相上下：ResNet-18只领先不到一个百分点，而它每个迭代周期的耗时是普通卷积神经网络的几十倍。这与fastbook的结果不同，原因在问题本身，而不在代码。fastbook比较用的是Imagenette，即128像素的彩色照片，更深的网络在那里能学到更多；28×28的Fashion-MNIST小而简单，在这个短训练方案下，五个普通的卷积层已经拟合得差不多同样好了。此外还有两点，使这个比较不只是跨层连接本身的比较：
#
# * ResNet-18的第一个模块是为ImageNet的224像素照片设计的。输入28×28的图像，到第一个残差块之前只剩7×7（下面的单元格计算了这一点；第04个笔记本逐层查看了形状），所以笔记把图像放大到96×96，`quick`放大到48×48。
# * 两个网络除了跨层连接，深度和规模也不同。
#
# 跨层连接本身起什么作用，要看第06个笔记本：那里的普通网络和残差网络是一对“双胞胎”，层完全相同；网络加深时，普通网络变差，残差网络则不会。

# %%
stem_side = trace_shapes(resnet18(), (1, 1, 28, 28))[0].shape[-1]
assert stem_side == 7  # 28 -> 14 (7x7 conv, stride 2) -> 7 (max-pool, stride 2)
stem_side

# %% [markdown]
# ## 每个训练方案要花多长时间：精度与耗时
#
# 训练方案是一种取舍：更多的迭代周期、更大的图像要花更多时间，换来更高的精度。下图把每个测过的预设画在同一组坐标轴上：纵轴是每个迭代周期之后的测试精度（一个点），横轴是从训练开始算起的实际耗时（含读取数据和每次评估），取对数坐标。空心圆是最后一个迭代周期加上测试时翻转（每张测试图像与其镜像取平均）的精度：这是另一个数，从不与前一个数混在一起。虚线是笔记的0.919。
#
# 这些数来自`python -m d2lresnet frontier`，它完全按`train --preset`的方式训练每个预设。本笔记本发布时，保存的文件中只有一次运行：上面那次`book`运行，它在第4个迭代周期之后的摆动在这张图上一目了然。表中写明了是在哪台机器上测的；要测你自己的机器（并加上其他预设），运行`python -m d2lresnet frontier --presets quick --out notebooks/figures/frontier.png`（文件中其他预设的结果会保留）。

# %%
from d2lresnet.experiments.frontier import format_table, plot_frontier

runs = load_runs("../figures/frontier.json")
for run in runs.values():
    times = run["wall_seconds"]
    assert len(times) == len(run["test_acc"]) == run["epochs"], run["preset"]
    assert all(a < b for a, b in zip(times, times[1:])), run["preset"]  # time only runs forward
if runs:
    plot_frontier(runs)
Markdown(format_table(runs))

# %% [markdown]
# ## 小结
#
# * 笔记按D2L的训练方案在Fashion-MNIST上训练ResNet-18：96×96的图像，10个迭代周期，学习率为0.05的随机梯度下降，批量大小为256，结果是`loss 0.011, train acc 0.997, test acc 0.919`。我们按同一训练方案在双核CPU上训练了5小时，最后是`loss 0.015, train acc 0.996, test acc 0.921`；但在最后两个迭代周期之间，测试精度从0.845跳到0.921：学习率从不衰减时，最后一个迭代周期的数字有几分运气。
# * 96×96是D2L为了速度所做的折中，由ImageNet的224降下来。把28×28的图像放大并不增加信息（放大后的图像秩至多为28），计算量却增加约十倍（统计得9.65倍）。
# * 为CPU设计的短训练方案（`quick`）用更小的图像、单周期学习率调度、动量、标签平滑和数据增广，达到了相近的测试精度。它的损失不能低于平滑后目标的熵（平滑系数为0.1时是0.50），它输出的训练精度是在增广后的图像上测得的。
# * 混淆矩阵显示训练好的网络错在哪里：主要在外观相似的上身服装之间（衬衫、T恤、套衫、外套）。
# * 保存`state_dict`，并用`weights_only=True`加载。
# * 在28×28的图像上用同一训练方案训练五个迭代周期，fastbook的5层普通卷积神经网络与ResNet-18不相上下，耗时却只是它的一小部分：问题简单时，加深网络得不到多少好处。第06个笔记本用只差跨层连接的“双胞胎”网络说明加深在什么时候才重要。
