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
# # 6 残差网络（ResNet）
#
# 随着我们设计越来越深的网络，深刻理解“新添加的层如何提升神经网络的性能”变得至关重要。更重要的是设计网络的能力：在这种网络中，添加层会使网络更具表现力。ResNet就是这样的设计。本笔记本把这个论证变成可以计算的东西：先用简单的曲线拟合，再用一个真实的（很小的）网络，让它变深并继续训练。
#
# 笔记中使用的是D2L中文版的术语，下表列出它们的英文对照（本模块打印和绘制的文字都跟随笔记本的语言）：

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

# %%
from IPython.display import Markdown

glossary = [(i18n.MESSAGES["zh"][key], i18n.MESSAGES["en"][key]) for key in i18n.GLOSSARY]
Markdown("| 中文 | English |\n|---|---|\n" + "\n".join(f"| {zh} | {en} |" for zh, en in glossary))

# %% [markdown]
# ## 6.1 函数类
#
# 假设有一类特定的神经网络架构$\mathcal{F}$，它包括学习率和其他超参数设置。对于所有$f \in \mathcal{F}$，存在一些参数集（例如权重和偏置），这些参数可以通过在合适的数据集上进行训练而获得。我们希望找到$f^*_{\mathcal{F}} \in \mathcal{F}$，使$f^*_{\mathcal{F}} \approx f^*$，其中$f^*$是我们真正想要的函数。训练所能做的只是让数据上的损失变小，所以给定一个具有$\mathbf{X}$特征和$\mathbf{y}$标签的数据集，$f^*_{\mathcal{F}}$是$\mathcal{F}$中**训练损失最小**的成员，而不是最接近$f^*$的成员（数据对$f^*$说明得不够时，二者并不相同）：
#
# $$f^*_{\mathcal{F}} = \arg\min_{f \in \mathcal{F}} L(\mathbf{X}, \mathbf{y}, f).$$
#
# 那么，更大的函数类$\mathcal{F}'$能让我们更接近$f^*$吗？**只有当它包含**较小的函数类，即$\mathcal{F} \subseteq \mathcal{F}'$时，我们才能确保结果**不会变差**：原来的最优解$f^*_{\mathcal{F}}$仍在其中，所以新的最优解的训练损失至少一样低。（笔记说“确保提高它们的性能”，而嵌套只能保证“不会变差”。）不包含原函数类的更大函数类没有这种保证，反而可能离得更远。这就是笔记中的图：左边是非嵌套函数类，虽然$\mathcal{F}_3$比$\mathcal{F}_1$更接近$f^*$，但$\mathcal{F}_6$却离得更远了；右侧是嵌套函数类$\mathcal{F}_1 \subseteq \dots \subseteq \mathcal{F}_6$，可以避免上述问题。

# %%
from d2lresnet.drawing.diagrams import draw_function_classes

classes_figure = draw_function_classes()
classes_figure

# %% [markdown]
# ### 用数字再看一遍
#
# （这张图是按比例画的：`tests/test_diagrams.py`会测量图中的椭圆，检验每个嵌套函数类都包含前一个函数类、离$f^*$也不会更远，以及非嵌套的$\mathcal{F}_6$比$\mathcal{F}_3$离得更远。）
#
# 在网格上用最小二乘法拟合目标函数$f^*$，比较两族函数类，其中第$k$个函数类都有$k$个参数：
#
# * **嵌套**：$\mathcal{F}_k$是次数小于$k$的多项式，所以$\mathcal{F}_1 \subseteq \mathcal{F}_2 \subseteq \dots$；
# * **非嵌套**：$\mathcal{G}_k$是$k$个宽度固定的高斯“鼓包”之和，鼓包的中心位于把$[-1, 1]$等分成$k$段后各段的中点。从3个鼓包变成4个时，**每个**鼓包的位置都变了。

# %%
import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(-1, 1, 201)
f_star = np.exp(-(x / 0.15) ** 2) + 0.5 * np.sin(2 * x)  # a sharp peak on a gentle wave


def polynomials(k):
    """F_k: polynomials of degree < k (a Legendre basis: same class, better conditioned)."""
    return np.polynomial.legendre.legvander(x, k - 1)


def bumps(k, width=0.2):
    """G_k: sums of k Gaussian bumps, centred in k equal cells of [-1, 1]."""
    centres = -1 + (2 * np.arange(k) + 1) / k
    return np.exp(-((x[:, None] - centres) / width) ** 2)


def best_fit(features, target=f_star):
    """The member of the class closest to the target (least squares) and its RMS error."""
    weights = np.linalg.lstsq(features, target, rcond=None)[0]
    fit = features @ weights
    return fit, np.sqrt(np.mean((fit - target) ** 2))


# %% [markdown]
# “包含”是可以检验的：如果$\mathcal{A}$的每个基函数都能被$\mathcal{B}$**精确地**拟合，那么$\mathcal{A} \subseteq \mathcal{B}$。下面较小的函数类用幂函数$1, x, x^2, \dots$作基，较大的函数类用勒让德多项式作基。两者的基不同，所以检验的是函数类本身，而不是它们的写法。

# %%
def contains(big, small):
    return all(best_fit(big, column)[1] < 1e-9 for column in small.T)


def powers(k):
    """F_k again, in another basis: 1, x, ..., x^(k-1)."""
    return np.vander(x, k, increasing=True)


checks = {"F_3 ⊆ F_4": contains(polynomials(4), powers(3)),
          "F_4 ⊆ F_3": contains(polynomials(3), powers(4)),
          "G_3 ⊆ G_4": contains(bumps(4), bumps(3))}
print(checks)
assert all(contains(polynomials(k + 1), powers(k)) for k in range(1, 8))
assert not any(contains(polynomials(k), powers(k + 1)) for k in range(1, 8))  # strictly bigger
assert not contains(bumps(4), bumps(3))  # G_3's bump at 0 cannot be made from G_4's

# %% [markdown]
# 现在来看每个函数类能达到的最小误差，$k = 1, \dots, 8$。左图是$f^*$以及$\mathcal{G}_3$和$\mathcal{G}_4$中的最优成员，右图是每个函数类的最小误差。

# %%
ks = np.arange(1, 9)
nested_errors = np.array([best_fit(polynomials(k))[1] for k in ks])
bump_errors = np.array([best_fit(bumps(k))[1] for k in ks])

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
left.plot(x, f_star, "k", lw=3, alpha=0.3, label="$f^*$")
for k in (3, 4):
    left.plot(x, best_fit(bumps(k))[0], label=f"$f^*_{{\\mathcal{{G}}_{k}}}$")
left.set_xlabel("$x$")
left.legend()
right.plot(ks, nested_errors, "o-", label=f"{i18n.label('nested_classes')} $\\mathcal{{F}}_k$")
right.plot(ks, bump_errors, "s--", label=f"{i18n.label('non_nested_classes')} $\\mathcal{{G}}_k$")
right.set_xlabel("$k$")
right.set_ylabel("RMS$(f^*_{\\mathcal{F}_k} - f^*)$")
right.legend()
plt.show()

print("F_k:", nested_errors.round(4))
print("G_k:", bump_errors.round(4))
print("F_k+1 - F_k:", np.diff(nested_errors).round(4))
assert nested_errors[-1] < 0.5 * nested_errors[0]  # this target gains much from a bigger class
assert bump_errors[3] > 1.1 * bump_errors[2]  # G_4 fits worse than G_3

# %% [markdown]
# 嵌套函数类的误差从不上升，这是一个定理，而不是实验发现：$\mathcal{F}_k$的最优成员也是$\mathcal{F}_{k+1}$的成员（新增的系数取0即可），所以$\mathcal{F}_{k+1}$的最优成员至少一样好。（误差也可能持平：从3次开始，平缓的波形已经拟合好了，所以3次以上的奇数次项几乎没有帮助，只有偶数次项能改善尖峰。）鼓包函数类的误差则忽高忽低：$\mathcal{G}_4$比$\mathcal{G}_3$“更大”（多一个参数），却离$f^*$更远，因为尖峰在0处，而它在0处没有鼓包。这正是笔记中图的左边：$\mathcal{F}_6$比$\mathcal{F}_3$离得更远。
#
# ### 深层网络：能成为恒等映射的层
#
# 对于深度神经网络，如果我们能将新添加的层训练成**恒等映射**（identity function）$f(\mathbf{x}) = \mathbf{x}$，新模型和原模型将同样有效，也就是说，更深网络的函数类包含较浅网络的函数类。同时，由于新模型可能得出更优的解来拟合训练数据集，因此添加层似乎更容易降低训练误差。普通网络也能达到恒等映射：普通的层**能够**表示恒等映射，所以普通的深层网络原则上也是嵌套的，区别在于达到恒等映射有多容易。笔记中说，残差网络的核心思想是：每个附加层都应该**更容易地**包含原始函数作为其元素之一。每个残差块计算$\mathrm{ReLU}(\mathbf{x} + g(\mathbf{x}))$，只要残差分支$g$输出0，它就是恒等映射，因为对ReLU输出的非负值有$\mathrm{ReLU}(\mathbf{x}) = \mathbf{x}$。
#
# 下面在一个小网络上具体看一看：用合成的8×8图像（判断左半边是否比右半边亮）训练200步。`train`是常见的训练循环（在大小为64的随机小批量上用带动量的SGD）；它返回**训练损失**，即批量规范化层使用移动平均估计的均值和方差（预测模式）时，全部512张图像上的损失，在第一步之前和每`every`步之后各记录一次。

# %%
import torch
from torch import nn
from torch.nn import functional as F

from d2lresnet import Residual
from d2lresnet.experiments.insertion import train, training_loss

torch.set_num_threads(1)  # a model this small only loses time to thread start-up
torch.manual_seed(0)
X = torch.rand(512, 1, 8, 8)
y = (X[..., :4].mean((1, 2, 3)) > X[..., 4:].mean((1, 2, 3))).long()

channels = 8
body = nn.Sequential(nn.Conv2d(1, channels, 3, padding=1), nn.BatchNorm2d(channels), nn.ReLU(),
                     Residual(channels, channels))
head = nn.Sequential(nn.Flatten(), nn.Linear(channels * 8 * 8, 2))
small = nn.Sequential(body, head)
before, small_loss = train(small, X, y, steps=200, every=200)
print(f"training loss: {before:.4f} before, {small_loss:.4f} after 200 steps")
assert small_loss < 0.1  # guessing would give ln 2 = 0.69

# %% [markdown]
# ### 让训练好的网络变深：四种方式
#
# 现在在训练好的`body`和`head`之间放入新的层，共三种方式，每种都添加同样多的卷积层：两个残差块含有四个卷积层，所以普通网络添加四个“卷积层—批量规范化层—ReLU”（参数数量也相同）。
#
# * **普通**：四个“卷积层—批量规范化层—ReLU”，使用PyTorch的默认初始化；
# * **残差**：两个残差块，使用默认初始化；
# * **零初始化**：同样的两个残差块，再调用`zero_init_()`：它把每个残差块最后一个批量规范化层的权重$\gamma$和偏置$\beta$设成0（即笔记中所说的，将上方加权运算的权重和偏置参数设成0），于是残差分支的输出恰好为0；
# * **对照**：什么也不添加，只有小网络本身。
#
# 每种网络都有一份自己的训练好的权重副本。首先看添加的那一刻，哪些网络计算的仍是小网络的函数。这里使用预测模式（批量规范化层使用移动平均估计的均值和方差，所以无论输入哪一批数据，每一层计算的都是同一个确定的函数）：

# %%
from d2lresnet.experiments.insertion import grow

blocks = 2
nets = grow(body, head, channels, blocks, seed=0)
with torch.no_grad():
    small_output = small.eval()(X)
    unchanged = {name: torch.equal(net.eval()(X), small_output) for name, net in nets.items()}
print(unchanged)
print({name: round(training_loss(net, X, y), 4) for name, net in nets.items()})
assert unchanged == {"control": True, "plain": False, "residual": False, "zero_init": True}

# %% [markdown]
# 只有零初始化的残差块让函数保持原样，连最后一位都不差。现在从这里开始训练这四种网络：使用相同的小批量和相同的优化器（SGD，学习率0.02，动量0.9），在多个随机种子上重复（种子决定新层的初始值和小批量的顺序），从添加的那一刻（第0步）起记录训练损失。设置`D2LRESNET_PRESET=smoke`时运行很短（30步，3个种子）；否则在5个种子上各训练300步。

# %%
from d2lresnet.experiments.insertion import insertion_curves, plot_insertion, settings
from d2lresnet.presets import default_preset_name

run = settings()
curves = insertion_curves(body, head, X, y, channels, blocks, run["steps"], run["seeds"],
                          every=run["every"])
plot_insertion(curves, run["steps"], blocks)
plt.show()
for name, losses in curves.items():  # one number per seed
    at_insertion, highest, at_end = (" ".join(f"{loss:.4f}" for loss in column)
                                     for column in (losses[:, 0], losses.max(1), losses[:, -1]))
    print(f"{name:>9}: at insertion {at_insertion}; highest {highest}; at the end {at_end}")

control, plain, residual, zero_init = (curves[name] for name in
                                       ("control", "plain", "residual", "zero_init"))
# On every seed:
assert np.all(zero_init[:, 0] == control[:, 0])  # zero-init: exactly the small net's loss
assert np.all(plain[:, 0] > 0.5)  # plain: back to about chance, ln 2 = 0.69
assert np.all((control[:, 0] < residual[:, 0]) & (residual[:, 0] < plain[:, 0]))
assert np.all(residual.max(1) > 10 * residual[:, 0])  # default-init residual: then climbs
assert np.all(np.abs(zero_init / control - 1) < 0.05)  # zero-init follows the control
if default_preset_name() != "smoke":  # 30 steps are too few to come back
    assert np.all(plain[:, -1] < control[:, -1]) and np.all(residual[:, -1] < plain[:, -1])

# %% [markdown]
# 在本次运行的每个种子上（上面的断言在本次运行的种子上检验），曲线显示：
#
# * **添加的那一刻**，零初始化的残差块让损失恰好停留在小网络原来的位置。两个默认初始化的残差块让损失略有上升（为小网络损失的几倍）；四个普通层则把损失打回到随机猜测的水平，约为$\ln 2$：默认初始化的卷积层打乱了输出层赖以训练的特征。
# * **添加之后不久**，默认初始化的残差网络**没有**保住它起初的小幅领先：几十步之内，它的损失上升十倍以上，最高约到随机猜测的水平（见输出中的“highest”）。只有残差分支输出0时，残差块才是恒等映射，而默认初始化时并非如此。普通网络则从随机猜测的水平开始回落。
# * **后来**，两种默认初始化的网络都降了回来，并超过对照：300步之后，二者的损失都低于对照，其中残差网络最低（`smoke`运行在30步时就结束了，看不到这一段；其他预设都训练300步，由上面最后一个断言检验）。零初始化的网络始终跟随对照，相差在百分之几以内。
#
# 所以，笔记的论证在这个意义上成立：设成0的残差块无需任何训练就是恒等映射，所以更深的网络一开始就拥有小网络学到的一切，而且不会失去。笔记接着说的“添加层似乎更容易降低训练误差”，在这里的零初始化网络上却看不到：它最终与对照只相差百分之几。最终损失最低的，反而是新层**不是**恒等映射、先丢掉了训练好的函数的那两种网络。零初始化的残差块几乎不动，原因是：只要$\gamma = 0$，梯度就传不到残差分支的卷积层，只有最后一个批量规范化层的$\gamma$和$\beta$能得到梯度；而对于小网络已经解决了的任务，这个梯度很小。

# %%
zeroed = grow(body, head, channels, blocks, seed=0)["zero_init"].train()
F.cross_entropy(zeroed(X), y).backward()
new_blocks = list(zeroed.children())[1:-1]
largest_gradient = {layer: max(getattr(block, layer).weight.grad.abs().max().item()
                               for block in new_blocks)
                    for layer in ("conv1", "bn1", "conv2", "bn2")}
print(largest_gradient)
assert largest_gradient["conv1"] == largest_gradient["bn1"] == largest_gradient["conv2"] == 0
assert largest_gradient["bn2"] > 0

# %% [markdown]
# ## 小结
#
# * 网络架构定义了一个函数类；训练从中选出训练损失最小的成员。只有当较大的函数类包含较小的函数类（嵌套函数类）时，才能确保它不会变差；不包含时，较大的函数类可能离得更远。
# * 如果新添加的层能成为恒等映射，更深的网络就包含较浅的网络。残差块只要残差分支最后一层的权重和偏置为0（`zero_init_()`），无需训练就是恒等映射。
# * 在一个小网络上的测量：零初始化的残差块完全保持训练好的网络的损失，之后跟随对照。默认初始化的层，无论是普通层还是残差块，都会先丢掉网络已学到的东西（普通层立即丢掉，残差块在几十步之内丢掉）；在这个简单的任务上，它们最终的损失低于对照。零初始化保护了已学到的东西，但在这里并没有让损失下降得更快。

# %% [markdown]
# ## 练习
#
# 每道练习都有一个答案单元：把其中的`...`换成你的答案（一个数，或者计算它的代码）并运行，然后运行它下面的检查单元。检查单元告诉你答得对不对，不对时给出提示；正确答案由模块计算得出，所以本笔记本中任何地方都没有写出答案。每个检查单元下面折叠着一份解答：点击那三个点（JupyterLab）或**显示代码**（Colab）即可展开。教师分发的副本（`make student`）不含解答。

# %%
from d2lresnet import exercises

# %% [markdown]
# **练习1**：添加层的实验在训练好的`body`和`head`之间放入了两个8通道的残差块（`Residual(8, 8)`）。这两个残差块增加了多少个参数？请手算：每个残差块有两个3×3卷积层和两个批量规范化层。

# %%
answer_1_1 = ...  # your answer

# %%
exercises.check("01.1", answer_1_1)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
conv = 9 * 8 * 8 + 8  # a 3x3 conv from 8 to 8 channels: 9 * 8 * 8 weights, 8 biases
batch_norm = 2 * 8  # gamma and beta, one of each per channel
answer_1_1 = 2 * (2 * conv + 2 * batch_norm)  # two blocks of two convs and two batch norms
assert exercises.check("01.1", answer_1_1)

# %% [markdown]
# **练习2**：在鼓包函数类$\mathcal{G}_1, \dots, \mathcal{G}_8$中，哪些包含$\mathcal{G}_1$（位于0处的单个鼓包）？用这些类的$k$组成的列表作答。先根据鼓包的位置推理，再用`contains(bumps(k), bumps(1))`验证。

# %%
answer_1_2 = ...  # your answer

# %%
exercises.check("01.2", answer_1_2)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
# G_k's centres are -1 + (2i + 1)/k; one of them is 0 when 2i + 1 = k, so when k is odd.
# No sum of bumps elsewhere makes the bump at 0 exactly, so only those classes contain G_1:
answer_1_2 = [k for k in range(1, 9) if contains(bumps(k), bumps(1))]
assert exercises.check("01.2", answer_1_2)
