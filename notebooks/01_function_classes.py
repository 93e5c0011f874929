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
# # 6 Residual networks (残差网络, ResNet)
#
# As networks get deeper we need to understand *when adding layers makes a network better*.
# ResNet's answer is a design in which every added layer can do at least as well as the network
# without it. This notebook makes that argument computable, first with plain curve fitting,
# then with a real (tiny) network.
#
# ## 6.1 Function classes (函数类)
#
# A network architecture, with its hyperparameters, defines a class $\mathcal{F}$ of functions:
# every $f \in \mathcal{F}$ is reachable by some choice of weights. Given data $\mathbf{X}$,
# $\mathbf{y}$, training looks for the member closest to the truth $f^*$:
#
# $$f^*_{\mathcal{F}} = \arg\min_{f \in \mathcal{F}} L(\mathbf{X}, \mathbf{y}, f).$$
#
# Does a *bigger* class $\mathcal{F}'$ get us closer to $f^*$? Only if it **contains** the
# smaller one, $\mathcal{F} \subseteq \mathcal{F}'$: then the old best $f^*_{\mathcal{F}}$ is
# still available, so the new best can only be as good or better. A bigger class that does not
# contain the old one may land further away.
#
# To see this with numbers, fit a target $f^*$ on a grid by least squares, with two families of
# classes, each class $k$ having $k$ parameters:
#
# * **nested**: $\mathcal{F}_k$ = polynomials of degree $< k$, so
#   $\mathcal{F}_1 \subseteq \mathcal{F}_2 \subseteq \dots$;
# * **not nested**: $\mathcal{G}_k$ = sums of $k$ Gaussian bumps of fixed width, centred in
#   $k$ equal cells of $[-1, 1]$. Going from 3 to 4 bumps *moves* every bump.

# %%
import numpy as np
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
# $\mathcal{A}$ is fitted *exactly* by $\mathcal{B}$.

# %%
def contains(big, small):
    return all(best_fit(big, column)[1] < 1e-9 for column in small.T)


print("F_3 in F_4:", contains(polynomials(4), polynomials(3)))
print("G_3 in G_4:", contains(bumps(4), bumps(3)))
assert all(contains(polynomials(k + 1), polynomials(k)) for k in range(1, 8))
assert not contains(bumps(4), bumps(3))  # G_3's bump at 0 cannot be made from G_4's

# %% [markdown]
# Now the best error each class can reach, for $k = 1, \dots, 8$:

# %%
ks = np.arange(1, 9)
nested_errors = np.array([best_fit(polynomials(k))[1] for k in ks])
bump_errors = np.array([best_fit(bumps(k))[1] for k in ks])

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
left.plot(x, f_star, "k", lw=3, alpha=0.3, label="$f^*$")
for k in (3, 4):
    left.plot(x, best_fit(bumps(k))[0], label=f"best in $G_{k}$")
left.legend()
left.set_title("$G_4$ has no bump at 0: it fits worse than $G_3$")
right.plot(ks, nested_errors, "o-", label="nested: polynomials $F_k$")
right.plot(ks, bump_errors, "s--", label="not nested: bumps $G_k$")
right.set_xlabel("class index k (= number of parameters)")
right.set_ylabel("best RMS error")
right.legend()
plt.show()

print("nested:    ", nested_errors.round(3))
print("not nested:", bump_errors.round(3))
assert np.all(np.diff(nested_errors) <= 1e-12), "a nested class never does worse"
assert np.any(bump_errors[1:] > 1.1 * bump_errors[:-1]), "a bigger, non-nested class can"

# %% [markdown]
# The nested errors never go up. (They can stay flat: a cubic already fits the gentle wave, so
# the odd degrees add almost nothing; only the even ones improve the peak.) The bump classes zig-zag: $\mathcal{G}_4$ is "bigger" than
# $\mathcal{G}_3$ yet further from $f^*$ — the left panel of the notes' figure, where
# $\mathcal{F}_6$ ends up further away than $\mathcal{F}_3$.
#
# ### The deep version: layers that can be the identity
#
# For networks, the class of a deeper network contains the shallower one if the added layers
# can compute the **identity** $f(\mathbf{x}) = \mathbf{x}$: then the deeper network can copy
# the shallower one and do the same. ResNet's core idea (残差网络的核心思想) is to make that
# easy: each added block computes $\mathrm{ReLU}(\mathbf{x} + g(\mathbf{x}))$, so it is the
# identity as soon as its residual branch $g$ outputs 0 — and on the non-negative outputs of
# a ReLU, $\mathrm{ReLU}(\mathbf{x}) = \mathbf{x}$.
#
# Let us train a small network for a few hundred steps on synthetic 8x8 images (is the left
# half brighter than the right?).

# %%
import torch
from torch import nn

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

optimizer = torch.optim.SGD(small.parameters(), lr=0.02, momentum=0.9)
losses = []
for step in range(300):
    batch = torch.randint(0, len(X), (64,))
    loss = nn.functional.cross_entropy(small(X[batch]), y[batch])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

plt.figure(figsize=(5, 2.5))
plt.plot(losses)
plt.xlabel("step")
plt.ylabel("training loss")
plt.show()
assert np.mean(losses[-20:]) < 0.1  # guessing would give ln 2 = 0.69

# %% [markdown]
# Now append two residual blocks that start as the identity: `zero_init_()` sets the scale
# $\gamma$ of the block's last BatchNorm to 0, so its residual branch outputs exactly 0.
# The deeper network reuses the trained `body` and `head` (the same weights, not copies).
# Both are compared in evaluation mode, where BatchNorm uses its running statistics.

# %%
deeper = nn.Sequential(body,
                       Residual(channels, channels).zero_init_(),
                       Residual(channels, channels).zero_init_(),
                       head)
small.eval()
deeper.eval()
with torch.no_grad():
    same = torch.equal(deeper(X), small(X))
print("deeper network computes the same function:", same)
assert same

# %% [markdown]
# Bit for bit the same outputs: the class of the deeper network contains the trained smaller
# network, so training the deeper one starts from (at least) this good a solution.
#
# Plain layers have no such default. Append a conv-BN-ReLU instead, at its usual random
# initialisation, and the function changes completely; to be harmless it would have to *learn*
# the identity (a 3x3 kernel with a single 1 at its centre), whereas a residual block only has
# to learn *zero*, which is where small weights already are.

# %%
plain = nn.Sequential(body,
                      nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels),
                      nn.ReLU(),
                      head).eval()
with torch.no_grad():
    change = (plain(X) - small(X)).abs().max().item()
print(f"largest change of an output after appending a plain layer: {change:.2f}")
assert change > 1.0
