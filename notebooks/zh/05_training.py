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
# # 6.4 训练
#
# 笔记中写道：“在Fashion‐MNIST数据集上训练ResNet。”我们像笔记那样训练笔记本03中的ResNet-18，把你这次运行的结果行印在笔记的结果行下面，再看看网络会犯哪些错误。
#
# **训练要花多长时间，由你决定。** 训练方案来自一个**预设**（preset），由环境变量`D2LRESNET_PRESET`选择（在启动JupyterLab之前设置）：`book`就是笔记的训练方案（在CPU上要几个小时），`quick`是为CPU设计的较短方案，`smoke`只检验代码能否运行（几秒钟）。不设置这个变量时，有GPU就用`book`，只有CPU就用`quick`。每个预设包含哪些设置、在哪台机器上花了多长时间，见笔记本08。

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

# %%
import math
import statistics
import tempfile
from pathlib import Path

import torch

from d2lresnet import count_parameters, resnet18
from d2lresnet.data import (CLASS_NAMES, FashionMNISTBatches, class_names,
                            get_fashion_mnist_labels, load_data_fashion_mnist,
                            load_fashion_mnist)
from d2lresnet.drawing.plots import ProgressPlot, plot_confusion_matrix, show_images
from d2lresnet.experiments.runs import load_runs
from d2lresnet.presets import PRESETS, Preset, get_preset
from d2lresnet.shapes import count_flops, trace_shapes
from d2lresnet.train import evaluate_accuracy, make_optimizer, predict, train, try_gpu

preset = get_preset()
device = try_gpu()
preset.name, device

# %% [markdown]
# ## 书中的训练方案
#
# 笔记用`lr, num_epochs, batch_size = 0.05, 10, 256`训练，并把图像放大到96×96：不带动量和权重衰减的随机梯度下降，学习率固定不变，Xavier初始化，交叉熵损失。`book`预设就是这一行。下面的单元格用它构造`train`会构造的优化器，并检查它正是书中的那一个。

# %%
book = PRESETS["book"]
optimizer, schedule = make_optimizer(resnet18(), book, book.lr, total_steps=10)
assert (book.lr, book.num_epochs, book.batch_size, book.resize) == (0.05, 10, 256, 96)
assert type(optimizer) is torch.optim.SGD and schedule is None  # a constant learning rate
assert optimizer.defaults["momentum"] == optimizer.defaults["weight_decay"] == 0
print(book.about)

# %% [markdown]
# ## 数据：Fashion-MNIST
#
# Fashion-MNIST有70,000张28×28的灰度服装图像，分为10个类别，其中60,000张用于训练，10,000张用于测试。与书中一样，像素值在[0, 1]之间（`ToTensor`），不做标准化；`book`也不做数据增广。

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
# ResNet-18是为ImageNet的224×224图像设计的。D2L在GoogLeNet一节中就已经缩小了输入，理由是速度：“为了使Fashion-MNIST上的训练短小精悍，我们将输入的高和宽从224降到96，这简化了计算。”从Fashion-MNIST的角度看，这一步正好相反：28×28的图像被**放大**到96×96。放大不会增加信息（原因见笔记本08），却要多花计算量。下面的单元格统计一次前向传播在各个输入尺寸下的浮点运算次数，以及b1到b5输出的特征图的边长：

# %%
counting_net = resnet18()
flops = {side: count_flops(counting_net, (1, 1, side, side)) for side in (28, 96, 224)}
cost_28_to_96, fraction_224_to_96 = flops[96] / flops[28], flops[96] / flops[224]
pixel_ratio = (96 / 28) ** 2
map_sides = {side: [row.shape[-1] for row in trace_shapes(counting_net, (1, 1, side, side))[:5]]
             for side in (28, 96)}
assert map_sides == {28: [7, 7, 4, 2, 1], 96: [24, 24, 12, 6, 3]}
assert cost_28_to_96 < 0.85 * pixel_ratio  # well under the ratio of pixels
assert 1 / 6 < fraction_224_to_96 < 1 / 5
print(f"{cost_28_to_96=:.2f}  {pixel_ratio=:.2f}  {fraction_224_to_96=:.3f}")
map_sides

# %% [markdown]
# 在96×96下，一张图像的计算量是它在原始28×28下的9.65倍，比像素数之比11.8少18%：在28×28下，b1到b5输出的特征图宽分别为7、7、4、2和1个像素，而7不能被2整除（向上取整为4），所以与96×96（24、12、6、3）相比，最后三个模块相对保留了更多的计算。与ImageNet的224相比，同样的缩小让计算量降为约五分之一：这就是D2L的理由。在28×28下网络照样可以运行（`smoke`预设就在28×28下训练），只是b5的输入只有2×2，输出只剩一个像素。
#
# ## 训练
#
# `train`就是书中的`train_ch6`：Xavier初始化、随机梯度下降、交叉熵损失，每个迭代周期结束后记录训练损失、训练精度和测试精度，并随训练画出来。它报告的examples/sec是**端到端**的速度（包括读取和缩放数据），而书中只计计算步骤的时间；我们也输出后者，并注明其含义。（在支持bf16指令的CPU上，它还会用bfloat16计算，见笔记本08。）`smoke`预设只在几百张图像上训练几步，用来检验代码能否运行：它逐个迭代周期输出结果，而不画一条全是噪声的曲线；要看的曲线是下面保存的`book`运行。

# %%
torch.manual_seed(0)
net = resnet18()
history = train(net, train_iter, test_iter, preset.num_epochs, preset.lr, device,
                recipe=preset, live_plot=preset.name != "smoke")
print(history.summary())

# %% [markdown]
# ## 你的结果与笔记的结果
#
# 笔记的运行（在CPU上以96×96训练10个迭代周期）输出了`loss 0.011, train acc 0.997, test acc 0.919`和`52.9 examples/sec on cpu`；D2L中文版2.0在GPU上输出的是`loss 0.012, train acc 0.997, test acc 0.893`。下面的单元格按同样的格式把你这次运行的结果印在笔记那一行的正下方，并说明两者能比较到什么程度：
#
# * `book`是同一个训练方案。10个迭代周期后的测试精度只是一次摆动中的抽样：下面保存的那次10个迭代周期的运行，在第4个迭代周期之后在0.845和0.921之间摆动（D2L的0.893是另一次抽样）。检查的是：你的测试精度落在这个范围内（上下各放宽0.02），损失与笔记的大小相当。
# * `quick`和`best`是别的训练方案。它们的标签平滑给损失设了0.50的下限（见笔记本08），所以它们的损失不能与笔记的0.011比较，只能比较测试精度，而且要达到0.90。
# * `smoke`不与任何结果比较；它的损失必须下降，测试精度必须高于“总是回答最常见的类别”。

# %%
saved_book = load_runs("../figures/frontier.json")["book"]
low, high = min(saved_book["test_acc"][3:]), max(saved_book["test_acc"][3:])  # after epoch 4
loss, train_acc, test_acc = history.train_loss[-1], history.train_acc[-1], history.test_acc[-1]
print("loss 0.011, train acc 0.997, test acc 0.919  ", i18n.tr("result_notes"))
print(f"loss {loss:.3f}, train acc {train_acc:.3f}, test acc {test_acc:.3f}  ",
      i18n.tr("result_ours", preset=preset.name))
majority_share = torch.bincount(test_iter.labels).max().item() / len(test_iter.labels)
assert len(history.test_acc) == preset.num_epochs
if preset.name == "book":
    print(i18n.tr("compare_book", low=f"{low:.3f}", high=f"{high:.3f}"))
    assert low - 0.02 <= test_acc <= high + 0.02 and loss < 0.05, (history.test_acc, loss)
elif preset.label_smoothing:
    print(i18n.tr("compare_smoothed", preset=preset.name, smoothing=preset.label_smoothing))
    assert test_acc >= 0.90, history.test_acc
else:
    print(i18n.tr("compare_smoke", preset=preset.name, images=len(train_iter.labels),
                  steps=len(train_iter) * preset.num_epochs))
    assert history.train_loss[-1] < history.train_loss[0] and test_acc > majority_share

# %% [markdown]
# ### 把笔记的训练方案完整跑一遍
#
# 我们在一台不支持bf16的双核CPU（AVX2）上把`book`预设的10个迭代周期完整训练了一次（`python -m d2lresnet frontier --presets book`，保存在`notebooks/figures/frontier.json`中）。下面的单元格检查它用的是今天的`book`训练方案，按笔记的格式输出最后一个迭代周期的结果，并重放它的训练曲线图。

# %%
assert Preset(**saved_book["recipe"]) == book  # the saved run used today's `book` recipe
rate = statistics.median(n / s for n, s in zip(saved_book["examples"],
                                               saved_book["compute_seconds"]))
print("loss {:.3f}, train acc {:.3f}, test acc {:.3f}".format(
    *(saved_book[k][-1] for k in ("train_loss", "train_acc", "test_acc"))))
print(f"{rate:.1f} examples/sec on {saved_book['device']} (compute step, median epoch)")
ProgressPlot.replay(saved_book);

# %% [markdown]
# 与笔记的结果对照：测试精度0.921，笔记为0.919；损失却是0.015，笔记为0.011，多了三分之一。上图说明，这两个数的第三位小数都说明不了多少。训练精度每个迭代周期都在上升；测试精度在前四个迭代周期里上升，之后在相邻的迭代周期之间来回摆动几个百分点：最后一个迭代周期的前一个只有0.845。学习率直到最后一步都是0.05，随机梯度下降始终停不下来，所以第10个迭代周期的测试精度只是这种摆动中的一次抽样；笔记的0.919和D2L的0.893是另外两次。正因为如此，`quick`和`best`在最后一个迭代周期把学习率降到接近零（单周期学习率调度）。
#
# 第一个迭代周期结束时，测试精度反而**高于**训练精度：训练精度是整个迭代周期的平均，而这期间网络还在学习。到训练结束时，训练精度明显高于测试精度：网络过拟合了。这个训练方案没有显式的正则化（没有权重衰减、数据增广或暂退法）；批量规范化和小批量随机梯度下降的噪声有一点正则化作用，但不足以消除这个差距。作为参照：Fashion-MNIST的基准表中，用数据增广训练的ResNet-18达到0.949，人类为0.835。
#
# ### 怎样读`quick`的结果
#
# `quick`训练结束时，即使测试精度同样好，损失也远高于笔记中的0.011：标签平滑给它的损失设了0.50的下限（见笔记本08）。`quick`还做数据增广：它输出的训练精度是在翻转和平移过的图像上、在训练模式下测得的。让训练好的网络在预测模式下处理10,000张未经增广的训练图像，得到的是另一种读数：

# %%
n_plain = min(len(test_iter.labels), len(train_iter.labels))
plain_train_iter = FashionMNISTBatches(train_iter.images[:n_plain], train_iter.labels[:n_plain],
                                       preset.batch_size, resize=preset.resize)
plain_train_acc = evaluate_accuracy(net, plain_train_iter, precision=history.precision)
print(f"{preset.augment = }\n{history.train_acc[-1] = :.3f}\n{plain_train_acc = :.3f}")

# %% [markdown]
# ## 网络容易混淆什么？
#
# 混淆矩阵对每个真实类别（行）统计网络预测为各个类别（列）的次数。检查时从磁盘重新读取测试标签：每一行的和必须等于该类测试图像的数目，对角线上正确的数目必须等于`train`统计的数目。

# %%
labels, predictions, probabilities = predict(net, test_iter, precision=history.precision)
matrix = plot_confusion_matrix(labels, predictions)
_, labels_on_disk = load_fashion_mnist(train=False)
labels_on_disk = labels_on_disk[:preset.test_limit]
class_counts = torch.bincount(labels_on_disk, minlength=len(CLASS_NAMES))
assert torch.equal(labels, labels_on_disk)  # predict kept the test set's order
assert torch.equal(matrix.sum(dim=1), class_counts)
assert matrix.trace().item() == round(history.test_acc[-1] * len(labels))

# %% [markdown]
# 错误多半出在上身服装之间：衬衫、T恤、套衫和外套在28×28下看起来很像。对角线之外最大的计数指出最常被混淆的一对类别（对于训练好的网络，即`book`或`quick`，断言检查这两类都在这四类之中）。

# %%
off_diagonal = matrix - torch.diag(matrix.diag())
true_class, predicted_class = divmod(off_diagonal.argmax().item(), len(CLASS_NAMES))
if preset.name in ("book", "quick"):
    upper_body = {"t-shirt", "pullover", "coat", "shirt"}
    assert {CLASS_NAMES[true_class], CLASS_NAMES[predicted_class]} <= upper_body
names = class_names()  # in the notebook's language
names[true_class], names[predicted_class], off_diagonal.max().item()

# %% [markdown]
# 下面是网络最有把握却答错了的测试图像。每张图上方是网络的回答及其概率，“≠”之后是真实标签。有些连人也难以判断；也有少数标签本身就是错的。检查时让网络只对这几张图像再预测一次。

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
# 保存权重（`state_dict`），而不是整个对象：状态字典只是普通的张量，用`weights_only=True`加载时不会执行文件中的任何代码。文件里就是这些张量，几乎没有别的；重新加载的网络给出相同的预测。

# %%
with tempfile.TemporaryDirectory() as folder:  # deleted, file and all, when the block ends
    path = Path(folder) / "resnet18_fashion_mnist.pt"
    torch.save(net.state_dict(), path)
    megabytes = path.stat().st_size / 1e6
    reloaded = resnet18()
    reloaded.load_state_dict(torch.load(path, weights_only=True))
tensor_megabytes = sum(t.numel() * t.element_size() for t in net.state_dict().values()) / 1e6
assert tensor_megabytes <= megabytes < tensor_megabytes + 0.1
_, reloaded_predictions, _ = predict(reloaded.to(device), test_iter, precision=history.precision)
assert torch.equal(reloaded_predictions, predictions)
print(f"{megabytes:.1f} MB, {count_parameters(reloaded):,}")

# %% [markdown]
# ## 小结
#
# * 笔记按书中的训练方案在Fashion-MNIST上训练ResNet-18：96×96的图像，10个迭代周期，学习率固定为0.05的随机梯度下降，批量大小为256，结果是`loss 0.011, train acc 0.997, test acc 0.919`。我们在双核CPU上按同一方案训练，最后是`loss 0.015, train acc 0.996, test acc 0.921`：损失相差三分之一，而且在最后两个迭代周期之间测试精度从0.845跳到0.921。学习率从不衰减时，最后一个迭代周期的测试精度有几分运气。
# * 96×96是D2L为了速度所做的折中，由ImageNet的224降下来（计算量降为约五分之一）。从Fashion-MNIST的28×28放大到96×96，计算量是原来的9.65倍。
# * `quick`是另一个训练方案（更小的图像、单周期学习率调度、动量、标签平滑、数据增广）：比较它的测试精度，而不是损失；它的损失不能低于平滑后目标的熵（平滑系数为0.1时是0.50）。
# * 混淆矩阵显示训练好的网络错在哪里：主要在外观相似的上身服装之间（衬衫、T恤、套衫、外套）。
# * 保存`state_dict`，并用`weights_only=True`加载。速度、机器以及普通卷积神经网络与ResNet-18的比较：见笔记本08。

# %% [markdown]
# ## 练习
#
# 把答案单元中的`...`换成你的答案并运行，再运行下面的检查单元：它告诉你答得对不对，并给出提示（由模块或你自己的训练结果计算得出）。每个检查单元下面折叠着一份解答。

# %%
from d2lresnet import exercises

# %% [markdown]
# **练习1**：按照书中的训练方案（10个迭代周期，小批量大小256，Fashion-MNIST的60000张训练图像），随机梯度下降一共更新多少次权重？

# %%
answer_5_1 = ...  # your answer

# %%
exercises.check("05.1", answer_5_1)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
book = PRESETS["book"]
updates_per_epoch = math.ceil(60_000 / book.batch_size)  # the last minibatch has 96 images
answer_5_1 = book.num_epochs * updates_per_epoch
assert exercises.check("05.1", answer_5_1)

# %% [markdown]
# **练习2**：**你的**网络最常认错哪个类别（按该类别测试图像中分类正确的比例算）？用类别名称（例如`"外套"`或`"coat"`）或编号作答。从上面的混淆矩阵读出答案；检查单元会查看你这次训练的预测结果。

# %%
answer_5_2 = ...  # your answer

# %%
exercises.check("05.2", answer_5_2, labels=labels, predictions=predictions)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
share_right = matrix.diag() / matrix.sum(dim=1)  # each row: one true class's test images
answer_5_2 = CLASS_NAMES[share_right.argmin()]
print(answer_5_2, f"{share_right.min().item():.2f}")
assert exercises.check("05.2", answer_5_2, labels=labels, predictions=predictions)
