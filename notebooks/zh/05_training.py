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
# 笔记中写道：“在Fashion‐MNIST数据集上训练ResNet。”你将按笔记的训练方案训练笔记本03中的ResNet-18，把你的结果放在笔记的结果下面对照，再看看网络犯了哪些错误。在默认预设下，在双核CPU上“全部运行”（Run All）需要11到20分钟（CPU不支持bf16时30分钟以上），几乎全花在一个单元格上；它开始之前会说明要花多长时间，而保存的运行让你不必等待就能读下去。

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

# %% [markdown]
# ## 训练方案
#
# 笔记用`lr, num_epochs, batch_size = 0.05, 10, 256`训练，图像放大到96×96：不带动量和权重衰减的随机梯度下降，学习率固定不变，Xavier初始化，交叉熵损失。这里训练方案由一个**预设**（preset）给出，在启动JupyterLab之前用环境变量`D2LRESNET_PRESET`选择：
#
# * `book`：笔记的训练方案；在硬件支持时，它用bfloat16计算，并以通道在后（channels-last）的布局存放图像：步骤相同，只是算术的精度较低、速度较快。
# * `quick`：为CPU设计的较短方案（48×48，5个迭代周期；见笔记本08）；`best`在64×64下训练得更久。
# * `smoke`：只用几秒钟检验代码能否运行；这时下面的单元格读取一次保存的运行。
#
# 不设置这个变量时，有GPU就用`book`，只有CPU就用`quick`。

# %%
import torch

from d2lresnet.presets import get_preset
from d2lresnet.train import try_gpu

preset, device = get_preset(), try_gpu()
preset.name, device

# %% [markdown]
# ## 数据：Fashion-MNIST
#
# Fashion-MNIST有70000张28×28的灰度服装图像，分为10个类别，其中60000张用于训练，10000张用于测试。与书中一样，像素值在[0, 1]之间，不做标准化；`book`也不做数据增广。

# %%
from d2lresnet.data import get_fashion_mnist_labels, load_data_fashion_mnist
from d2lresnet.drawing.plots import show_images

torch.manual_seed(0)
train_iter, test_iter = load_data_fashion_mnist(preset.batch_size, **preset.data_options())
X, y = next(iter(test_iter))
assert 0 <= X.min() and 0.5 < X.max() <= 1  # ToTensor's range: not normalised, as in the book
show_images(X[:18], 3, 6, titles=get_fashion_mnist_labels(y[:18]));

# %% [markdown]
# ### 为什么是96×96？
#
# ResNet-18是为ImageNet的224×224图像设计的；D2L为了速度缩小了输入：“为了使Fashion-MNIST上的训练短小精悍，我们将输入的高和宽从224降到96，这简化了计算。”对Fashion-MNIST来说，这一步正好相反：28×28的图像被**放大**了。放大不会增加细节，却会改变网络能够计算的东西。b1把边长缩小为原来的四分之一，b3到b5又各减半一次：下面的单元格追踪b1到b5输出的特征映射的边长，并比较一次前向传播在96×96下与在28×28和224×224下的计算量。

# %%
from d2lresnet import resnet18
from d2lresnet.shapes import count_flops, trace_shapes

counting_net = resnet18()
sides = {side: [row.shape[-1] for row in trace_shapes(counting_net, (1, 1, side, side))[:5]]
         for side in (28, 96)}
flops = {side: count_flops(counting_net, (1, 1, side, side)) for side in (28, 96, 224)}
assert sides[28][-1] == 1 < sides[96][-1]  # at 28x28, b5 outputs a single pixel
sides, round(flops[96] / flops[28], 2), round(flops[96] / flops[224], 2)

# %% [markdown]
# 在28×28下（`smoke`），b5只输出一个像素：它的第二个卷积层只看到这个像素和填充。在96×96下，b5处理3×3的特征映射，计算量是28×28时的9.65倍；而与ImageNet的224相比，96把计算量降到约五分之一（0.18）：这就是D2L的理由。
#
# ## 训练
#
# `train`就是书中的`train_ch6`：每个迭代周期结束后记录训练损失、训练精度和测试精度，并随训练画出来。它报告的examples/sec是整个循环的速度，包括读取数据的时间；书中只计计算步骤的时间，下一行给出这个数。先看看在这台机器上要花多长时间：下面的单元格在网络的一个副本上为几个训练步计时。

# %%
from d2lresnet.train import estimate_training

torch.manual_seed(0)
net = resnet18()
history = None  # until the next cell has trained
estimate_training(net, train_iter, test_iter, preset, device);

# %% [markdown]
# **在课堂上，请跳过下一个单元格**：再下一个单元格就会显示一次保存的`quick`完整运行，后面的单元格都读取这次运行。回家再训练。

# %%
from d2lresnet.train import train

history = train(net, train_iter, test_iter, preset.num_epochs, preset.lr, device,
                recipe=preset, live_plot=preset.name != "smoke")
print(history.summary())

# %%
from d2lresnet.drawing.plots import ProgressPlot
from d2lresnet.experiments.runs import load_runs

saved = load_runs("../figures/saved_quick.json")["quick"]
if history is None or preset.name == "smoke":  # skipped, or too short to show anything
    run = saved
    print(i18n.tr("saved_run", preset=run["preset"], epochs=run["epochs"],
                  test_acc=f"{run['test_acc'][-1]:.3f}"))
    ProgressPlot.replay(run)
else:
    run = {**vars(history), "preset": preset.name}

# %% [markdown]
# ## 你的结果与笔记的结果
#
# 笔记的运行（在CPU上）输出了`loss 0.011, train acc 0.997, test acc 0.919`；D2L中文版2.0在GPU上输出的是`loss 0.012, train acc 0.997, test acc 0.893`。下面的单元格把你的运行（或保存的运行）的结果放在笔记那一行下面，并说明两者能比较到什么程度：
#
# * `book`是同一个训练方案：它的测试精度必须落在我们的`book`运行在第4个迭代周期之后的摆动范围内（见下文），上下各放宽0.02，损失也要与笔记的大小相当。
# * `quick`和`best`是别的训练方案：标签平滑给它们的损失设了下限（见笔记本08），所以只能比较测试精度，而且要达到0.90。

# %%
book_run = load_runs("../figures/frontier.json")["book"]
low, high = min(book_run["test_acc"][3:]), max(book_run["test_acc"][3:])  # after epoch 4
loss, train_acc, test_acc = (run[k][-1] for k in ("train_loss", "train_acc", "test_acc"))
print("loss 0.011, train acc 0.997, test acc 0.919  ", i18n.tr("result_notes"))
print(f"loss {loss:.3f}, train acc {train_acc:.3f}, test acc {test_acc:.3f}  ",
      i18n.tr("result_saved" if run is saved else "result_ours", preset=run["preset"]))
if run["preset"] == "book":
    print(i18n.tr("compare_book", low=f"{low:.3f}", high=f"{high:.3f}"))
    assert low - 0.02 <= test_acc <= high + 0.02 and loss < 0.05, (run["test_acc"], loss)
else:
    print(i18n.tr("compare_smoothed", preset=run["preset"],
                  smoothing=get_preset(run["preset"]).label_smoothing))
    assert test_acc >= 0.90, run["test_acc"]

# %% [markdown]
# ### 把笔记的训练方案完整跑一遍
#
# 我们在一台不支持bfloat16的双核CPU上把`book`的10个迭代周期完整训练了一次。下面的单元格按笔记的格式输出最后一个迭代周期的结果和每个迭代周期后的测试精度，并重放训练曲线。

# %%
print("loss {:.3f}, train acc {:.3f}, test acc {:.3f}".format(
    *(book_run[k][-1] for k in ("train_loss", "train_acc", "test_acc"))))
print([round(acc, 3) for acc in book_run["test_acc"]])
ProgressPlot.replay(book_run);

# %% [markdown]
# 与笔记的结果对照：测试精度0.921，笔记为0.919；损失0.015，笔记为0.011。曲线表明，第三位小数说明不了多少。训练精度每个迭代周期都在上升；测试精度在前四个迭代周期里上升，之后来回摆动几个百分点：倒数第二个迭代周期只有0.845。学习率直到最后一步都是0.05，随机梯度下降始终停不下来，所以第10个迭代周期的测试精度只是摆动中碰巧取到的一个值；笔记的0.919和D2L的0.893是另外两个。因此`quick`和`best`到训练结束时把学习率降到接近零。
#
# 到训练结束时，训练精度（0.996）明显高于测试精度：网络过拟合了，而这个训练方案没有防止过拟合的手段（没有权重衰减、数据增广或暂退法）。
#
# ## 网络容易混淆什么？
#
# 混淆矩阵对每个真实类别（行）统计网络预测为各个类别（列）的次数；预测正确的数在对角线上。下面的单元格让你训练好的网络回答10000张测试图像，或读取保存的运行的回答。

# %%
from d2lresnet.data import load_fashion_mnist
from d2lresnet.drawing.plots import plot_confusion_matrix
from d2lresnet.train import predict

test_images, labels = load_fashion_mnist(train=False)
if run is saved:  # its network's answers, saved with the run
    predictions = torch.tensor([int(answer) for answer in saved["test_predictions"]])
    confidence = torch.tensor(saved["test_confidence"])
else:
    _, predictions, probabilities = predict(net, test_iter, precision=history.precision)
    confidence = probabilities.max(dim=1).values
matrix = plot_confusion_matrix(labels, predictions)

# %% [markdown]
# 错误多半出在上身服装之间：T恤、套衫、外套和衬衫在28×28下看起来很像。对角线之外最大的计数指出最常被混淆的一对类别；检查的是：这两类都在这四类之中。

# %%
from d2lresnet.data import CLASS_NAMES, class_names

names = class_names()  # in the notebook's language
off_diagonal = matrix - torch.diag(matrix.diag())
true_class, predicted_class = divmod(off_diagonal.argmax().item(), len(CLASS_NAMES))
assert {CLASS_NAMES[true_class], CLASS_NAMES[predicted_class]} <= {"t-shirt", "pullover",
                                                                      "coat", "shirt"}
names[true_class], names[predicted_class], off_diagonal.max().item()

# %% [markdown]
# 下面是网络最有把握却答错了的测试图像。每张图上方是网络的回答及其概率，“≠”之后是真实标签。有些连人也难以判断；有些标签看起来是错的。

# %%
wrong = (predictions != labels).nonzero().flatten()
worst = wrong[confidence[wrong].argsort(descending=True)[:8]]
show_images(test_images[worst], 2, 4, scale=2,  # 8 pictures, 2 rows
            titles=[f"{names[predictions[i]]} {confidence[i]:.2f}\n≠ {names[labels[i]]}"
                    for i in worst]);

# %% [markdown]
# ## 练习
#
# 把答案单元格中的`...`换成你的答案并运行，再运行下面的检查单元格：它告诉你答得对不对，并给出提示。每个检查单元格下面折叠着一份解答。

# %%
from d2lresnet import exercises

# %% [markdown]
# **练习1**：按照书中的训练方案（10个迭代周期，小批量大小256，Fashion-MNIST的60000张训练图像），随机梯度下降一共更新多少次权重？答案是一个整数。

# %%
answer_5_1 = ...  # your answer · 你的答案

# %%
exercises.check("05.1", answer_5_1)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
import math

book = get_preset("book")
updates_per_epoch = math.ceil(60_000 / book.batch_size)  # the last minibatch has 96 images
solution_5_1 = book.num_epochs * updates_per_epoch
assert exercises.check("05.1", solution_5_1)

# %% [markdown]
# **练习2**：上面的网络（你的，或保存的运行的）哪个类别分类正确的比例最低（按该类别的测试图像计）？答案是一个类别：它的名称（例如`"外套"`或`"coat"`）或编号0到9。检查单元格读取的是这个网络的回答。

# %%
answer_5_2 = ...  # your answer · 你的答案

# %%
exercises.check("05.2", answer_5_2, labels=labels, predictions=predictions)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
share_right = matrix.diag() / matrix.sum(dim=1)  # each row: one true class's test images
solution_5_2 = CLASS_NAMES[share_right.argmin()]
print(names[share_right.argmin()], f"{share_right.min().item():.2f}")  # in your language
assert exercises.check("05.2", solution_5_2, labels=labels, predictions=predictions)

# %% [markdown]
# ## 更进一步
#
# **保存和重新加载训练好的模型。** 保存权重（`state_dict`），而不是整个对象：状态字典只是普通的张量，用`weights_only=True`加载时不会执行文件中的任何代码。文件里就是这些张量，几乎没有别的；重新加载的网络给出相同的回答。

# %%
import tempfile
from pathlib import Path

from d2lresnet import count_parameters

with tempfile.TemporaryDirectory() as folder:  # deleted, file and all, when the block ends
    path = Path(folder) / "resnet18_fashion_mnist.pt"
    torch.save(net.state_dict(), path)
    megabytes = path.stat().st_size / 1e6
    reloaded = resnet18()
    reloaded.load_state_dict(torch.load(path, weights_only=True))
tensor_megabytes = sum(t.numel() * t.element_size() for t in net.state_dict().values()) / 1e6
assert tensor_megabytes <= megabytes < tensor_megabytes + 0.1
_, before, _ = predict(net, test_iter)
_, after, _ = predict(reloaded.to(device), test_iter)
assert torch.equal(after, before)
print(f"{megabytes:.1f} MB, {count_parameters(reloaded):,}")
