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
# # 6 Residual networks (残差网络（ResNet）)
#
# As we design deeper and deeper networks, it becomes essential to understand *how adding
# layers can make a network better*. Better still is a design in which adding layers makes
# the network strictly more expressive. ResNet is such a design. This notebook makes the
# argument computable, first with plain curve fitting, then with a real (tiny) network.
#
# The notes are in Chinese; these are the terms they use (the module prints and draws them in
# the notebook's language):

# %%
from IPython.display import Markdown

glossary = [(i18n.MESSAGES["zh"][key], i18n.MESSAGES["en"][key]) for key in i18n.GLOSSARY]
# D2L zh's own terms, as the notes use them
assert {"残差块", "残差映射", "恒等映射", "嵌套函数类", "批量规范化", "汇聚层", "步幅", "填充",
        "通道", "退化", "全局平均汇聚层"} <= {zh for zh, en in glossary}
Markdown("| 中文 | English |\n|---|---|\n" + "\n".join(f"| {zh} | {en} |" for zh, en in glossary))

# %% [markdown]
# ## 6.1 Function classes (函数类)
#
# A network architecture, with its learning rate and other hyperparameters, defines a class
# $\mathcal{F}$ of functions: for every $f \in \mathcal{F}$ there are parameters (weights and
# biases) that training on a suitable data set can reach. Given data $\mathbf{X}$ with labels
# $\mathbf{y}$, training looks for the member closest to the function we really want, $f^*$:
#
# $$f^*_{\mathcal{F}} = \arg\min_{f \in \mathcal{F}} L(\mathbf{X}, \mathbf{y}, f).$$
#
# Does a *bigger* class $\mathcal{F}'$ get us closer to $f^*$? Improvement is **guaranteed if
# it contains** the smaller one, $\mathcal{F} \subseteq \mathcal{F}'$: then the old best
# $f^*_{\mathcal{F}}$ is still available, so the new best is as good or better. A bigger class
# that does not contain the old one carries no such guarantee and may land further away. The
# notes' figure: on the left, non-nested classes, where $\mathcal{F}_3$ is closer to $f^*$
# than $\mathcal{F}_1$ but $\mathcal{F}_6$ is further away again; on the right, nested classes
# $\mathcal{F}_1 \subseteq \dots \subseteq \mathcal{F}_6$, which avoid the problem.

# %%
from d2lresnet.drawing.diagrams import draw_function_classes

classes_figure = draw_function_classes()
classes_figure

# %% [markdown]
# The figure is drawn to scale, so its claims can be measured on it. In coordinates where its
# ellipses are circles, class $\mathcal{F}_i$ (centre $c_i$, radius $r_i$) contains
# $\mathcal{F}_{i-1}$ when $|c_i - c_{i-1}| + r_{i-1} \le r_i$, and its distance to $f^*$ is
# $\max(0, |c_i - f^*| - r_i)$. For each panel: the distances of $\mathcal{F}_1, \dots,
# \mathcal{F}_6$ to $f^*$, then whether each class contains the one before it:

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
# ### The same with numbers
#
# Fit a target $f^*$ on a grid by least squares, with two families of classes, each class $k$
# having $k$ parameters:
#
# * **nested**: $\mathcal{F}_k$ = polynomials of degree $< k$, so
#   $\mathcal{F}_1 \subseteq \mathcal{F}_2 \subseteq \dots$;
# * **not nested**: $\mathcal{G}_k$ = sums of $k$ Gaussian bumps of fixed width, centred in
#   $k$ equal cells of $[-1, 1]$. Going from 3 to 4 bumps *moves* every bump.

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
# "Contains" is checkable: $\mathcal{A} \subseteq \mathcal{B}$ when every basis function of
# $\mathcal{A}$ is fitted *exactly* by $\mathcal{B}$. The check below uses the powers
# $1, x, x^2, \dots$ for the smaller class, a different basis from the Legendre polynomials of
# the bigger one, so it tests the classes, not the way they were written down.

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
# Now the best error each class can reach, for $k = 1, \dots, 8$. Left: $f^*$ and the best
# members of $\mathcal{G}_3$ and $\mathcal{G}_4$. Right: the best error of every class.

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
# The nested errors never go up. (They can stay flat: a cubic already fits the gentle wave, so
# the odd degrees add almost nothing; only the even ones improve the peak.) The bump classes
# zig-zag: $\mathcal{G}_4$ is "bigger" than $\mathcal{G}_3$ (one more parameter) yet further
# from $f^*$, because it has no bump at 0 where the peak is. This is the left panel of the
# notes' figure, where $\mathcal{F}_6$ ends up further away than $\mathcal{F}_3$.
#
# ### The deep version: layers that can be the identity
#
# For deep networks: if a newly added layer can be trained into the **identity mapping**
# $f(\mathbf{x}) = \mathbf{x}$, the new model is as good as the old one, so the deeper class
# contains the shallower one. That holds for plain networks too: a plain layer *can* represent
# the identity, so plain networks are nested in principle. The difference is how easy the
# identity is to reach. ResNet's core idea, in the notes' words: every additional layer should
# *more easily* contain the original function as one of its elements (每个附加层都应该更容易地
# 包含原始函数作为其元素之一). Each residual block computes
# $\mathrm{ReLU}(\mathbf{x} + g(\mathbf{x}))$, so it is the identity as soon as its residual
# branch $g$ outputs 0, and on the non-negative outputs of a ReLU,
# $\mathrm{ReLU}(\mathbf{x}) = \mathbf{x}$.
#
# Let us make this concrete on a small network, trained for a few hundred steps on synthetic
# 8x8 images (is the left half brighter than the right?).

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
# ### Growing the trained network
#
# Now append two residual blocks that start as the identity. `zero_init_()` sets the weight
# $\gamma$ and the bias $\beta$ of the block's last BatchNorm to 0, so its residual branch
# outputs exactly 0. The deeper network reuses the trained `body` and `head` (the same weights,
# not copies). At insertion its loss must be the small network's loss, to the last bit:

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
# The class of the deeper network contains the trained small network, and training starts
# from it. Keep training the deeper network: its loss goes down further from there, instead of
# starting over. The dashed line marks the step where the blocks were added.

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
# ### How hard is the identity for a plain layer?
#
# A plain conv-BN-ReLU layer can compute the identity too, but its weights have to take very
# particular values. A 3x3 kernel with a single 1 at its centre makes the convolution the
# identity; BatchNorm then normalises every channel to mean 0 and variance 1, so its scale and
# shift have to undo that: $\gamma = \sqrt{\sigma^2 + \epsilon}$ and $\beta = \mu$, the
# statistics of the features that reach it. Take the features the trained body produces and
# append such a layer, in training mode as it would be while training:

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
# So the plain layer reaches the identity only with the kernel *and* BatchNorm's $\gamma$ and
# $\beta$ set to the data's statistics, and even then only up to rounding, and only for the
# batch those statistics came from. A residual block only has to reach *zero* in its last
# layer, whatever the data. With BatchNorm's own $\gamma$ and $\beta$ already trained to
# non-zero values, `zero_init_()` still gives exactly the identity, on every batch:

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
# ## Summary
#
# * A network architecture defines a class of functions. A bigger class is guaranteed to get
#   at least as close to the true function $f^*$ if it contains the smaller one (nested
#   function classes); a bigger class that does not can end up further away.
# * A deeper network contains the shallower one when its added layers can be the identity
#   mapping. Plain layers can be, in principle, but only with finely tuned weights; a residual
#   block is the identity as soon as the weight and bias of its branch's last layer are 0.
# * Residual blocks initialised that way can be appended to a trained network without changing
#   its loss at all, and training continues from there.
