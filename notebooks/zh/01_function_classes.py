# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 6.1 函数类
#
# 添加层什么时候能让网络变得更好？本节先用嵌套与非嵌套的函数类拟合曲线，再用三种方式让一个训练好的小网络变深，最后把新添加的层训练成恒等映射：普通层与残差块比一比。在2核CPU上用默认预设“全部运行”需要约90秒。

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
# 假设有一类特定的神经网络架构$\mathcal{F}$，它包括学习率和其他超参数设置：训练能让它的权重和偏置达到的所有函数。我们想要的是函数$f^*$；而训练只能让给定数据$\mathbf{X}$和标签$\mathbf{y}$上的损失变小，所以它找到的是**训练损失最小**的成员：
#
# $$f^*_{\mathcal{F}} = \arg\min_{f \in \mathcal{F}} L(\mathbf{X}, \mathbf{y}, f).$$
#
# 更大的函数类能更接近$f^*$吗？只有当它**包含**较小的函数类时，我们才能确保结果**不会变差**：原来的最优解仍在其中。（笔记说“确保提高”，而嵌套只保证“不会变差”。）笔记中的图：左边，$\mathcal{F}_6$比更小的$\mathcal{F}_3$离$f^*$更远；右边的嵌套函数类避免了这个问题。

# %%
from d2lresnet.drawing.diagrams import draw_function_classes

classes_figure = draw_function_classes()
classes_figure

# %% [markdown]
# ### 用数字再看一遍
#
# 用最小二乘法拟合目标函数$f^*$，比较两族函数类，其中第$k$个函数类有$k$个参数：**嵌套**的$\mathcal{F}_k$是次数小于$k$的多项式；**非嵌套**的$\mathcal{G}_k$是$k$个高斯“鼓包”之和，鼓包的中心位于把$[-1, 1]$等分成$k$段后各段的中点（从3个鼓包变成4个时，**每个**鼓包都移动了）。

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


# %%
def contains(big, small):
    """A ⊆ B when B fits every basis function of A exactly."""
    return all(best_fit(big, column)[1] < 1e-9 for column in small.T)


def powers(k):
    """F_k again, in another basis: 1, x, ..., x^(k-1)."""
    return np.vander(x, k, increasing=True)


# F_3 in powers, F_4 in Legendre polynomials: this tests the classes, not how they are written.
checks = {"F_3 ⊆ F_4": contains(polynomials(4), powers(3)),
          "F_4 ⊆ F_3": contains(polynomials(3), powers(4)),
          "G_3 ⊆ G_4": contains(bumps(4), bumps(3))}
print(checks)
assert not contains(bumps(4), bumps(3))  # G_3's bump at 0 cannot be made from G_4's

# %% [markdown]
# 每个函数类的最小误差（右），以及$\mathcal{G}_3$和$\mathcal{G}_4$的最优成员（左）：

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
assert np.all(np.diff(nested_errors) <= 1e-12)  # nested: never worse
assert bump_errors[3] > 1.1 * bump_errors[2]  # not nested: G_4 fits worse than G_3

# %% [markdown]
# 嵌套函数类的误差从不上升：$\mathcal{F}_k$的最优成员也在$\mathcal{F}_{k+1}$之中。$\mathcal{G}_4$比$\mathcal{G}_3$多一个参数，却拟合得更差：尖峰在0处，而它在0处没有鼓包。
#
# ### 深层网络：能成为恒等映射的层
#
# 笔记中说：如果能将新添加的层训练成**恒等映射**$f(\mathbf{x}) = \mathbf{x}$，新模型和原模型将同样有效，因此添加层似乎更容易降低训练误差。残差网络的核心思想是：每个附加层都应该**更容易地**包含原始函数作为其元素之一。残差块计算$\mathrm{ReLU}(\mathbf{x} + g(\mathbf{x}))$，只要残差分支$g$输出0，它在非负输入上就是恒等映射。普通的“卷积层—批量规范化层—ReLU”却不能在训练中成为恒等映射：批量规范化要除以每个小批量自己的统计量。在预测模式下，统计量固定，它在非负输入上才能成为恒等映射。
#
# 下面要加深的小网络，在512张合成的8×8图像上训练200步（判断左半边是否更亮）。`train`在第一步之前和每`every`步之后返回全部图像上的训练损失，这时每个批量规范化层都使用全部图像的统计量（新层的移动平均统计量不来自任何数据）。

# %%
import torch
from torch import nn

from d2lresnet import Residual
from d2lresnet.experiments.insertion import train

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
print(i18n.tr("small_net_trained", before=before, after=small_loss, steps=200))
assert small_loss < 0.1  # guessing would give ln 2 = 0.69

# %% [markdown]
# ### 让训练好的网络变深：三种方式和一个对照
#
# 在训练好的`body`和`head`之间添加四个卷积层：**普通**，四个使用PyTorch默认初始化的“卷积层—批量规范化层—ReLU”；**残差**，两个默认初始化的残差块；**零初始化**，同样的残差块再调用`zero_init_()`，它把每个残差块最后一个批量规范化层的拉伸参数γ和偏移参数β设成0（笔记中“将上方加权运算的权重和偏置参数设成0”）；**对照**，什么也不添加。哪些网络计算的仍是小网络的函数？

# %%
from d2lresnet.experiments.insertion import grow, outputs, training_loss

blocks = 2
nets = grow(body, head, channels, blocks, seed=0)
small_output = outputs(small, X)
unchanged = {name: torch.equal(outputs(net, X), small_output) for name, net in nets.items()}
for name, net in nets.items():
    print(i18n.tr("insertion_same", name=name, loss=training_loss(net, X, y),
                  same=unchanged[name]))
assert unchanged == {"control": True, "plain": False, "residual": False, "zero_init": True}

# %% [markdown]
# 只有零初始化的网络，连最后一位都不差。现在用同样的方式训练这四种网络（SGD，学习率0.02，动量0.9，相同的小批量），在5个种子上各训练300步（`smoke`下在3个种子上各训练30步）。

# %%
from d2lresnet.experiments.insertion import (estimate_insertion, insertion_curves,
                                             plot_insertion, settings)
from d2lresnet.presets import default_preset_name

run = settings()
estimate_insertion(body, head, X, y, channels, blocks, run["steps"], run["seeds"], run["every"])
curves = insertion_curves(body, head, X, y, channels, blocks, run["steps"], run["seeds"],
                          every=run["every"])
plot_insertion(curves, run["steps"], blocks)
plt.show()
for name, losses in curves.items():  # one number per seed
    at_insertion, highest, at_end = (" ".join(f"{loss:.4f}" for loss in column)
                                     for column in (losses[:, 0], losses.max(1), losses[:, -1]))
    print(i18n.tr("insertion_row", name=name, at_insertion=at_insertion, highest=highest,
                  at_end=at_end))

control, plain, residual, zero_init = (curves[name] for name in
                                       ("control", "plain", "residual", "zero_init"))
# On every seed:
assert np.all(zero_init[:, 0] == control[:, 0])  # zero-init: exactly the small net's loss
assert np.all(plain[:, 0] > np.log(2))  # plain: worse than guessing
assert np.all((control[:, 0] < residual[:, 0]) & (residual[:, 0] < plain[:, 0]))
assert np.all(residual.max(1) < plain[:, 0])  # residual: never loses as much as plain at once
assert np.all(np.abs(zero_init / control - 1) < 0.05)  # zero-init follows the control
if default_preset_name() != "smoke":  # 30 steps are too few to come back
    assert np.all(plain[:, -1] < control[:, -1]) and np.all(residual[:, -1] < plain[:, -1])

# %% [markdown]
# 在每个种子上（`smoke`下运行到第30步就结束）：
#
# * **添加的那一刻**，零初始化的网络与小网络完全相同（损失0.002）；两个默认初始化的残差块让损失升到0.15～0.26；四个普通层则升到1.0～1.4，比随机猜测还差。
# * **之后**，在多数种子上残差网络失去一部分起初的领先，损失最高升到0.56，但从未升到普通网络起步的位置。300步后，两种默认初始化的网络都低于对照，残差网络最低；零初始化的网络始终跟随对照，相差在百分之几以内。
#
# 所以，零初始化的残差块无需训练就是恒等映射，保住了小网络学到的东西；但它并没有比对照更快地降低损失。

# %% [markdown]
# ### 残差块学会恒等映射
#
# 笔记说的是把层**训练**成恒等映射。在训练好的`body`之后，放入两个普通的“卷积层—批量规范化层—ReLU”或一个残差块（同样的两个卷积层），都使用默认初始化；冻结其余部分，只训练新层，让它输出自己的输入（均方误差；SGD，学习率0.05）。左图：与恒等映射的距离$\|g(h) - h\| / \|h\|$，$h$是全部图像的特征；右图：加深后网络的损失。在5个种子上各训练300步（`smoke`下在3个种子上各训练150步）。

# %%
from d2lresnet.experiments import identity

features = outputs(body, X)  # what the new layers receive from the frozen body
trial = identity.settings()
learned = identity.identity_curves(features, head, y, channels, trial["steps"], trial["seeds"],
                                   every=trial["every"])
identity.plot_identity(learned, trial["steps"], small_loss)
plt.show()
reached = {kind: identity.steps_to(learned[kind]["distance"], trial["every"])
           for kind in identity.KINDS}
for kind in identity.KINDS:
    steps = " ".join(i18n.tr("identity_never") if step is None else str(step)
                     for step in reached[kind])
    print(i18n.tr("identity_row", kind=kind, steps=steps,
                  distance=" ".join(f"{d:.3f}" for d in learned[kind]["distance"][:, -1]),
                  loss=" ".join(f"{loss:.4f}" for loss in learned[kind]["loss"][:, -1])))

plain_id, residual_id = learned["plain"], learned["residual"]
assert all(step is not None for step in reached["residual"])  # within 5%, on every seed
assert all(step is None for step in reached["plain"])  # plain: not within the budget
assert np.all(residual_id["loss"][:, -1] < 1.2 * small_loss)  # the small net's loss, restored
assert np.all(residual_id["loss"][:, -1] < plain_id["loss"][:, -1])

# %% [markdown]
# 在每个种子上，残差块不到100步就进入恒等映射的5%以内，并且更早恢复了小网络的损失；普通层最后仍离恒等映射约20%（`smoke`下超过25%），损失也更高。残差块的残差分支只需衰减到0；普通层却要让输入穿过两个卷积层和两个批量规范化层而保持不变：这就是笔记说的“更容易”。

# %% [markdown]
# ## 练习
#
# 把每个答案单元中的`...`换成你的答案并运行，再运行它下面的检查单元：它告诉你答得对不对，不对时给出提示。每个检查单元下面折叠着一份解答。

# %%
from d2lresnet import exercises

# %% [markdown]
# **练习1**：添加层的实验在`body`和`head`之间放入了两个8通道的残差块（`Residual(8, 8)`）。这两个残差块增加了多少个参数？卷积层的偏置和批量规范化层的拉伸参数γ、偏移参数β都算在内。用一个整数作答，请手算：每个残差块有两个3×3卷积层和两个批量规范化层。

# %%
answer_1_1 = ...  # your answer · 你的答案

# %%
exercises.check("01.1", answer_1_1)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
conv = 9 * 8 * 8 + 8  # a 3x3 conv from 8 to 8 channels: 9 * 8 * 8 weights, 8 biases
batch_norm = 2 * 8  # gamma and beta, one of each per channel
solution_1_1 = 2 * (2 * conv + 2 * batch_norm)  # two blocks of two convs and two batch norms
assert exercises.check("01.1", solution_1_1)

# %% [markdown]
# **练习2**：在鼓包函数类$\mathcal{G}_1, \dots, \mathcal{G}_8$中，哪些包含$\mathcal{G}_1$（位于0处的单个鼓包）？用这些类的$k$组成的列表作答，例如`[2, 5]`。先根据鼓包的位置推理，再用`contains(bumps(k), bumps(1))`验证。

# %%
answer_1_2 = ...  # your answer · 你的答案

# %%
exercises.check("01.2", answer_1_2)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
# G_k's centres are -1 + (2i + 1)/k; one of them is 0 when 2i + 1 = k, so when k is odd.
# No sum of bumps elsewhere makes the bump at 0 exactly, so only those classes contain G_1:
solution_1_2 = [k for k in range(1, 9) if contains(bumps(k), bumps(1))]
assert exercises.check("01.2", solution_1_2)

# %% [markdown]
# ## 更进一步
#
# **预测模式测量的是统计量，而不是学习。** 在预测模式下，新层用的是默认的移动平均统计量（均值0，方差1），而不是它的数据的统计量。于是默认初始化的残差网络在添加时看起来比实际好很多倍，而在随后几步里又像是丢掉了学到的东西，其实只是这些统计量在追赶数据：

# %%
from torch.nn import functional as F

residual_net = grow(body, head, channels, blocks, seed=0)["residual"]
with torch.no_grad():
    in_eval_mode = F.cross_entropy(residual_net.eval()(X), y).item()
with_data = training_loss(residual_net, X, y)
print(i18n.tr("eval_mode_loss", eval_mode=in_eval_mode, data=with_data))
assert in_eval_mode < with_data / 10

# %% [markdown]
# **零初始化的网络为什么跟随对照。** 只要$\gamma = 0$，梯度就传不到零初始化残差分支的卷积层，只能到达它最后一个批量规范化层：

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
