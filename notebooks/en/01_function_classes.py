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
# # 6.1 Function classes (函数类)
#
# When does adding layers make a network better? You will fit curves with nested and
# non-nested function classes, grow a small trained network three ways, and train new layers
# into the identity mapping: plain layers against a residual block. Run All takes
# about 90 seconds under the default preset on a 2-core CPU.

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
# A network architecture, with its learning rate and other hyperparameters, defines a class
# $\mathcal{F}$ of functions: those its weights and biases can reach by training. We want the
# function $f^*$; training can only make a loss small on data $\mathbf{X}$ with labels
# $\mathbf{y}$, so it finds the member with the **smallest training loss**:
#
# $$f^*_{\mathcal{F}} = \arg\min_{f \in \mathcal{F}} L(\mathbf{X}, \mathbf{y}, f).$$
#
# Does a bigger class get closer to $f^*$? Only if it **contains** the smaller one are we sure
# it is **not worse**: the old best is still in it. (The notes say "improve"; nesting promises
# only "not worse".) In the notes' figure, on the left, $\mathcal{F}_6$ is further from $f^*$
# than the smaller $\mathcal{F}_3$; on the right, nested classes avoid this.

# %%
from d2lresnet.drawing.diagrams import draw_function_classes

classes_figure = draw_function_classes()
classes_figure

# %% [markdown]
# ### The same with numbers
#
# Fit a target $f^*$ by least squares with two families whose class $k$ has $k$ parameters:
# **nested** $\mathcal{F}_k$, polynomials of degree below $k$; **not nested** $\mathcal{G}_k$,
# sums of $k$ Gaussian bumps centred in $k$ equal cells of $[-1, 1]$ (from 3 to 4 bumps, every
# bump *moves*).

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
# Each class's best error (right), and the best members of $\mathcal{G}_3$ and
# $\mathcal{G}_4$ (left):

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
# The nested errors never go up: the best member of $\mathcal{F}_k$ is in $\mathcal{F}_{k+1}$
# too. $\mathcal{G}_4$ has one more parameter than $\mathcal{G}_3$ yet fits worse: it has no
# bump at 0, where the peak is.
#
# ### The deep version: layers that can be the identity
#
# The notes: if a newly added layer can be trained into the **identity mapping**
# $f(\mathbf{x}) = \mathbf{x}$, the new model is as good as the original, and adding layers
# seems to make the training error easier to lower. ResNet's core idea: every additional layer
# should *more easily* contain the original function as one of its elements. A residual block
# computes $\mathrm{ReLU}(\mathbf{x} + g(\mathbf{x}))$, the identity on non-negative inputs once
# its residual branch $g$ outputs 0. A plain conv-BN-ReLU layer cannot be the identity while
# training: batch normalization divides by each batch's own statistics. In eval mode, with
# fixed statistics, it can, on non-negative inputs.
#
# The net to grow is trained for 200 steps on 512 synthetic 8x8 images (is the left half
# brighter?). `train` returns the training loss on all images before the first step and every
# `every` steps, each batch normalization using the images' statistics (a new layer's running
# statistics are those of no data).

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
# ### Growing the trained network: three ways and a control
#
# Add four conv layers between the trained `body` and `head`: **plain**, four conv-BN-ReLU
# layers at PyTorch's default init; **residual**, two residual blocks at default init;
# **zero-init**, the same blocks after `zero_init_()`, which sets $\gamma$ and $\beta$ of each
# block's last batch normalization to 0 (the notes' "set the upper layer's weight and bias to
# 0"); **control**, nothing added. Which still compute the small net's function?

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
# Only zero-init, to the last bit. Now train all four alike (SGD, learning rate 0.02,
# momentum 0.9, the same batches) for 300 steps on 5 seeds (30 on 3 under `smoke`).

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
# On every seed (under `smoke` the run ends at step 30):
#
# * **At insertion** zero-init is exactly the small net (loss 0.002); two residual blocks at
#   default init raise the loss to 0.15–0.26; four plain layers to 1.0–1.4, worse than guessing.
# * **Then** the residual net loses some of its head start on most seeds, rising to at most
#   0.56, never to where plain began. After 300 steps both default-init nets are below the
#   control, residual lowest; zero-init follows the control within a few per cent.
#
# So zero-init blocks are the identity untrained and keep what the small net learned, but did
# not lower the loss faster than the control.

# %% [markdown]
# ### A block learns the identity
#
# The notes speak of *training* layers into the identity. After the trained `body`, put two
# plain conv-BN-ReLU layers or one residual block (the same two convs) at default init, freeze
# the rest, and train only the new layers to give back their input (mean squared error; SGD,
# learning rate 0.05). Left: the distance to the identity,
# $\|g(h) - h\| / \|h\|$ on all images' features $h$; right: the grown net's loss. 300 steps on
# 5 seeds (150 on 3 under `smoke`).

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
# On every seed the residual block comes within 5% of the identity within 100 steps, and
# restores the small net's loss sooner; the plain layers end about 20% away (over 25% under
# `smoke`), with a higher loss. The block's branch has only to fade to 0; plain layers must
# copy their input through two convolutions and two normalizations: the notes' *more easily*.

# %% [markdown]
# ## Exercises
#
# Replace each `...` with your answer and run it, then the check below it: it says whether you
# are right, with a hint if not. A worked solution is folded under each check.

# %%
from d2lresnet import exercises

# %% [markdown]
# **Exercise 1.** The insertion experiment put two residual blocks of 8 channels
# (`Residual(8, 8)`) between `body` and `head`. How many parameters do they add, biases,
# $\gamma$ and $\beta$ included? Answer with an integer, counted by hand: each block has two 3x3
# convolutions and two batch normalization layers.

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
# **Exercise 2.** Which of the bump classes $\mathcal{G}_1, \dots, \mathcal{G}_8$ contain
# $\mathcal{G}_1$, the single bump at 0? Answer with the list of their $k$, such as `[2, 5]`.
# Reason from where the bumps sit, then try `contains(bumps(k), bumps(1))`.

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
# ## Going further
#
# **Eval mode measures the statistics, not the learning.** In eval mode a new layer normalizes
# with its default running statistics (mean 0, variance 1), not its data's. The default-init
# residual net then looks many times better at insertion than it is, and seems to lose what it
# learned in the next steps, while those statistics catch up with the data:

# %%
from torch.nn import functional as F

residual_net = grow(body, head, channels, blocks, seed=0)["residual"]
with torch.no_grad():
    in_eval_mode = F.cross_entropy(residual_net.eval()(X), y).item()
with_data = training_loss(residual_net, X, y)
print(i18n.tr("eval_mode_loss", eval_mode=in_eval_mode, data=with_data))
assert in_eval_mode < with_data / 10

# %% [markdown]
# **Why zero-init follows the control.** While $\gamma = 0$, no gradient reaches the
# convolutions of a zero-init branch, only its last batch normalization:

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
