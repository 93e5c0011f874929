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
# # 6 残差网络（ResNet）
#
# 随着我们设计越来越深的网络，深刻理解“新添加的层如何提升神经网络的性能”变得至关重要。更重要的是设计网络的能力：在这种网络中，添加层会使网络更具表现力。ResNet就是这样的设计。本笔记本把这个论证变成可以计算的东西：先用简单的曲线拟合，再用一个真实的（很小的）网络。
#
# 笔记中使用的是D2L中文版的术语，下表列出它们的英文对照（本模块打印和绘制的文字都跟随笔记本的语言）：

# %%
from IPython.display import Markdown

glossary = [(i18n.MESSAGES["zh"][key], i18n.MESSAGES["en"][key]) for key in i18n.GLOSSARY]
# D2L zh's own terms, as the notes use them
assert {"残差块", "残差映射", "恒等映射", "嵌套函数类", "批量规范化", "汇聚层", "步幅", "填充",
        "通道", "退化", "全局平均汇聚层"} <= {zh for zh, en in glossary}
Markdown("| 中文 | English |\n|---|---|\n" + "\n".join(f"| {zh} | {en} |" for zh, en in glossary))

# %% [markdown]
# ## 6.1 函数类
#
# 假设有一类特定的神经网络架构$\mathcal{F}$，它包括学习率和其他超参数设置。对于所有$f \in \mathcal{F}$，存在一些参数集（例如权重和偏置），这些参数可以通过在合适的数据集上进行训练而获得。给定一个具有$\mathbf{X}$特征和$\mathbf{y}$标签的数据集，训练就是在$\mathcal{F}$中寻找最接近我们真正想要的函数$f^*$的那个成员：
#
# $$f^*_{\mathcal{F}} = \arg\min_{f \in \mathcal{F}} L(\mathbf{X}, \mathbf{y}, f).$$
#
# 那么，更大的函数类$\mathcal{F}'$能让我们更接近$f^*$吗？**只要它包含**较小的函数类，即$\mathcal{F} \subseteq \mathcal{F}'$，**就能确保**结果不会变差：原来的最优解$f^*_{\mathcal{F}}$仍在其中，所以新的最优解至少一样好。不包含原函数类的更大函数类没有这种保证，反而可能离得更远。这就是笔记中的图：左边是非嵌套函数类，虽然$\mathcal{F}_3$比$\mathcal{F}_1$更接近$f^*$，但$\mathcal{F}_6$却离得更远了；右侧是嵌套函数类$\mathcal{F}_1 \subseteq \dots \subseteq \mathcal{F}_6$，可以避免上述问题。

# %%
from d2lresnet.drawing.diagrams import draw_function_classes

classes_figure = draw_function_classes()
classes_figure

# %% [markdown]
# 这张图是按比例画的，所以图中的说法可以直接在图上量出来。在把椭圆变成圆的坐标系中，函数类$\mathcal{F}_i$（圆心$c_i$，半径$r_i$）包含$\mathcal{F}_{i-1}$的条件是$|c_i - c_{i-1}| + r_{i-1} \le r_i$，它到$f^*$的距离是$\max(0, |c_i - f^*| - r_i)$。下面对每幅图先列出$\mathcal{F}_1, \dots, \mathcal{F}_6$到$f^*$的距离，再列出每个函数类是否包含前一个函数类：

# %%
import numpy as np
from matplotlib.patches import Ellipse


def classes_in(ax):
    """(centre, radius) of F_1 ... F_6 in one panel, rescaled so the ellipses are circles."""
    outlines = {p.get_gid(): p for p in ax.patches if isinstance(p, Ellipse)}
    ellipses = [outlines[f"F{i}"] for i in range(1, 7)]
    aspect = ellipses[0].height / ellipses[0].width
    return [(np.array(e.center) / [1, aspect], e.width / 2) for e in ellipses], aspect


def measure(ax):
    classes, aspect = classes_in(ax)
    star = np.array(next(line for line in ax.lines if line.get_gid() == "f*").get_xydata()[0])
    distance = [max(0.0, np.linalg.norm(c - star / [1, aspect]) - r) for c, r in classes]
    nested = [bool(np.linalg.norm(c - c0) + r0 <= r + 1e-9)
              for (c0, r0), (c, r) in zip(classes, classes[1:])]
    return np.round(distance, 2), nested


(left_distance, left_nested), (right_distance, right_nested) = map(measure, classes_figure.axes)
for ax, distance, nested in [(classes_figure.axes[0], left_distance, left_nested),
                             (classes_figure.axes[1], right_distance, right_nested)]:
    print(f"{ax.get_title()}: {distance}, {nested}")  # the panel's title, then its numbers
assert not any(left_nested) and all(right_nested)
assert left_distance[2] < left_distance[0]  # F3 is closer to f* than F1 ...
assert left_distance[5] > left_distance[2]  # ... but F6 is further away again
assert np.all(np.diff(right_distance) <= 0)  # nested: never further away

# %% [markdown]
# ### 用数字再看一遍
#
# 在网格上用最小二乘法拟合目标函数$f^*$，比较两族函数类，其中第$k$个函数类都有$k$个参数：
#
# * **嵌套**：$\mathcal{F}_k$是次数小于$k$的多项式，所以$\mathcal{F}_1 \subseteq \mathcal{F}_2 \subseteq \dots$；
# * **非嵌套**：$\mathcal{G}_k$是$k$个宽度固定的高斯“鼓包”之和，鼓包的中心位于把$[-1, 1]$等分成$k$段后各段的中点。从3个鼓包变成4个时，*每个*鼓包的位置都变了。

# %%
import matplotlib.pyplot as plt

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
# “包含”是可以检验的：如果$\mathcal{A}$的每个基函数都能被$\mathcal{B}$*精确地*拟合，那么$\mathcal{A} \subseteq \mathcal{B}$。下面较小的函数类用幂函数$1, x, x^2, \dots$作基，较大的函数类用勒让德多项式作基。两者的基不同，所以检验的是函数类本身，而不是它们的写法。

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

print("F_k:", nested_errors.round(3))
print("G_k:", bump_errors.round(3))
assert np.all(np.diff(nested_errors) <= 1e-12)  # a nested class never does worse
assert nested_errors[-1] < 0.5 * nested_errors[0]  # ... and here it does much better
assert bump_errors[3] > 1.1 * bump_errors[2]  # G_4 fits worse than G_3

# %% [markdown]
# 嵌套函数类的误差从不上升。（误差也可能持平：三次多项式已经能拟合平缓的波形，所以奇数次项几乎没有帮助，只有偶数次项能改善尖峰。）鼓包函数类的误差则忽高忽低：$\mathcal{G}_4$比$\mathcal{G}_3$“更大”（多一个参数），却离$f^*$更远，因为尖峰在0处，而它在0处没有鼓包。这正是笔记中图的左边：$\mathcal{F}_6$比$\mathcal{F}_3$离得更远。
#
# ### 深层网络：能成为恒等映射的层
#
# 对于深度神经网络，如果我们能将新添加的层训练成**恒等映射**（identity function）$f(\mathbf{x}) = \mathbf{x}$，新模型和原模型将同样有效，也就是说，更深网络的函数类包含较浅网络的函数类。普通网络也是这样：普通的层*能够*表示恒等映射，所以普通的深层网络原则上也是嵌套的，区别在于达到恒等映射有多容易。笔记中说，残差网络的核心思想是：每个附加层都应该*更容易地*包含原始函数作为其元素之一。每个残差块计算$\mathrm{ReLU}(\mathbf{x} + g(\mathbf{x}))$，只要残差分支$g$输出0，它就是恒等映射，因为对ReLU输出的非负值有$\mathrm{ReLU}(\mathbf{x}) = \mathbf{x}$。
#
# 下面在一个小网络上具体看一看：用合成的8×8图像（判断左半边是否比右半边亮）训练200步。

# %%
import torch
from torch import nn
from torch.nn import functional as F

from d2lresnet import Residual

torch.set_num_threads(1)  # a model this small only loses time to thread start-up
torch.manual_seed(0)
X = torch.rand(512, 1, 8, 8)
y = (X[..., :4].mean((1, 2, 3)) > X[..., 4:].mean((1, 2, 3))).long()

channels = 8
body = nn.Sequential(nn.Conv2d(1, channels, 3, padding=1), nn.BatchNorm2d(channels), nn.ReLU(),
                     Residual(channels, channels))
head = nn.Sequential(nn.Flatten(), nn.Linear(channels * 8 * 8, 2))
small = nn.Sequential(body, head)


def train(net, steps):
    """SGD on random batches of 64; returns the loss of every step."""
    net.train()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.02, momentum=0.9)
    losses = []
    for step in range(steps):
        batch = torch.randint(0, len(X), (64,))
        loss = F.cross_entropy(net(X[batch]), y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def loss_on_all(net):
    """The loss on all 512 images, BatchNorm on its running statistics (eval mode)."""
    net.eval()
    with torch.no_grad():
        return F.cross_entropy(net(X), y).item()


small_losses = train(small, 200)
small_loss = loss_on_all(small)
print(f"{small_loss = :.4f}")
assert small_loss < 0.1  # guessing would give ln 2 = 0.69

# %% [markdown]
# ### 让训练好的网络变深
#
# 现在在网络后面添加两个一开始就是恒等映射的残差块。`zero_init_()`把残差块最后一个批量规范化层的权重$\gamma$和偏置$\beta$都设成0，于是残差分支的输出恰好为0。更深的网络复用训练好的`body`和`head`（是同一组权重，而不是副本）。添加的那一刻，它的损失必须与小网络的损失完全相同，连最后一位都不差：

# %%
deeper = nn.Sequential(body,
                       Residual(channels, channels).zero_init_(),
                       Residual(channels, channels).zero_init_(),
                       head)
loss_at_insertion = loss_on_all(deeper)
print(f"{small_loss = :.6f}\n{loss_at_insertion = :.6f}")
assert loss_at_insertion == small_loss
with torch.no_grad():
    assert torch.equal(deeper.eval()(X), small.eval()(X))

# %% [markdown]
# 更深网络的函数类包含训练好的小网络，训练就从它开始。继续训练更深的网络，损失在此基础上进一步下降，而不必从头再来。图中的虚线标出添加残差块的那一步。

# %%
deeper_losses = train(deeper, 100)
deeper_loss = loss_on_all(deeper)
print(f"{small_loss = :.6f}\n{deeper_loss = :.6f}")

steps = np.arange(len(small_losses) + len(deeper_losses))
plt.figure(figsize=(6, 2.8))
plt.semilogy(steps, small_losses + deeper_losses)
plt.axvline(len(small_losses), color="k", ls="--", lw=1)
plt.xlabel("step")
plt.ylabel("loss")
plt.show()
assert deeper_loss < small_loss

# %% [markdown]
# ### 普通层要成为恒等映射有多难？
#
# 普通的“卷积层—批量规范化层—ReLU”也能计算恒等映射，但它的权重必须取非常特定的值。中心为1、其余为0的$3\times 3$卷积核让卷积成为恒等映射；可是随后的批量规范化层会把每个通道规范化为均值0、方差1，所以它的缩放和平移必须抵消这一步：$\gamma = \sqrt{\sigma^2 + \epsilon}$，$\beta = \mu$，其中$\mu$和$\sigma^2$是到达这一层的特征的统计量。取训练好的`body`输出的特征，在后面接上这样一层，并让它处于训练模式（就像训练时那样）：

# %%
with torch.no_grad():
    H = body.eval()(X)  # the trained body's features: what the new layer sees
    plain = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels),
                          nn.ReLU()).train()
    conv, bn = plain[0], plain[1]
    distance_from_identity = {"default init": (plain(H) - H).abs().max().item()}

    conv.weight.zero_()
    conv.bias.zero_()
    conv.weight[range(channels), range(channels), 1, 1] = 1  # a 1 at the centre, per channel
    distance_from_identity["kernel"] = (plain(H) - H).abs().max().item()

    bn.weight.copy_(torch.sqrt(H.var((0, 2, 3), unbiased=False) + bn.eps))
    bn.bias.copy_(H.mean((0, 2, 3)))
    distance_from_identity["kernel, γ, β"] = (plain(H) - H).abs().max().item()
    distance_from_identity["kernel, γ, β; H[:64]"] = (plain(H[:64]) - H[:64]).abs().max().item()
print({name: round(value, 6) for name, value in distance_from_identity.items()})
assert distance_from_identity["default init"] > 1
assert distance_from_identity["kernel"] > 0.1  # BN still normalises
assert distance_from_identity["kernel, γ, β"] < 1e-4
assert distance_from_identity["kernel, γ, β; H[:64]"] > 0.01  # tuned to one batch's statistics

# %% [markdown]
# 可见，普通层只有在卷积核*以及*批量规范化层的$\gamma$和$\beta$都按数据的统计量设定时，才能成为恒等映射；即便如此，也只是在舍入误差范围内成立，而且只对提供这些统计量的那一批数据成立。残差块只需让最后一层输出*零*，与数据无关。即使批量规范化层自己的$\gamma$和$\beta$已经训练成非零值，`zero_init_()`仍然能在每一批数据上精确地给出恒等映射：

# %%
residual = Residual(channels, channels).train()
with torch.no_grad():
    for parameter in residual.parameters():  # as if trained: every weight, also beta, non-zero
        parameter.add_(torch.randn_like(parameter))
    assert not torch.equal(residual(H), H)
    residual.zero_init_()
    exact = {"H": torch.equal(residual(H), H), "H[:64]": torch.equal(residual(H[:64]), H[:64])}
print(exact)
assert all(exact.values())

# %% [markdown]
# ## 小结
#
# * 网络架构定义了一个函数类。如果较大的函数类包含较小的函数类（嵌套函数类），就能确保它至少和较小的函数类一样接近真正的函数$f^*$；不包含时，较大的函数类可能离得更远。
# * 如果新添加的层能成为恒等映射，更深的网络就包含较浅的网络。普通的层原则上也能做到，但需要精细调好的权重；残差块只要残差分支最后一层的权重和偏置为0，就是恒等映射。
# * 这样初始化的残差块可以添加到训练好的网络后面，完全不改变它的损失，训练从那里继续进行。
