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
# # 6 Residual networks (残差网络（ResNet）)
#
# As we design deeper and deeper networks, it becomes essential to understand *how adding
# layers can make a network better*. More important still is the ability to design networks
# in which adding layers makes the network more expressive. ResNet is such a design. This
# notebook makes the argument computable, first with plain curve fitting, then with a real
# (tiny) network that we grow and train on.
#
# The notes are in Chinese; these are the terms they use (the module prints and draws them in
# the notebook's language):

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
# ## 6.1 Function classes (函数类)
#
# A network architecture, with its learning rate and other hyperparameters, defines a class
# $\mathcal{F}$ of functions: for every $f \in \mathcal{F}$ there are parameters (weights and
# biases) that training on a suitable data set can reach. We would like the member
# $f^*_{\mathcal{F}}$ with $f^*_{\mathcal{F}} \approx f^*$, the function we really want. All
# that training can do is make a loss small on the data, so given data $\mathbf{X}$ with labels
# $\mathbf{y}$, $f^*_{\mathcal{F}}$ is the member with the **smallest training loss**, not
# the one closest to $f^*$ (the two differ when the data say too little about $f^*$):
#
# $$f^*_{\mathcal{F}} = \arg\min_{f \in \mathcal{F}} L(\mathbf{X}, \mathbf{y}, f).$$
#
# Does a *bigger* class $\mathcal{F}'$ get us closer to $f^*$? Only **if it contains** the
# smaller one, $\mathcal{F} \subseteq \mathcal{F}'$, can we be sure that it is **not worse**:
# the old best $f^*_{\mathcal{F}}$ is still available, so the new best has a training loss as
# low or lower. (The notes say "be sure to improve"; nesting promises only "not worse".) A
# bigger class that does not contain the old one carries no such guarantee and may land
# further away. The notes' figure: on the left, non-nested classes, where $\mathcal{F}_3$ is
# closer to $f^*$ than $\mathcal{F}_1$ but $\mathcal{F}_6$ is further away again; on the right,
# nested classes $\mathcal{F}_1 \subseteq \dots \subseteq \mathcal{F}_6$, which avoid the
# problem.

# %%
from d2lresnet.drawing.diagrams import draw_function_classes

classes_figure = draw_function_classes()
classes_figure

# %% [markdown]
# ### The same with numbers
#
# (The figure is drawn to scale: `tests/test_diagrams.py` measures its ellipses and checks that
# each nested class contains the one before it and is never further from $f^*$, and that the
# non-nested $\mathcal{F}_6$ is further away than $\mathcal{F}_3$.)
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

print("F_k:", nested_errors.round(4))
print("G_k:", bump_errors.round(4))
print("F_k+1 - F_k:", np.diff(nested_errors).round(4))
assert nested_errors[-1] < 0.5 * nested_errors[0]  # this target gains much from a bigger class
assert bump_errors[3] > 1.1 * bump_errors[2]  # G_4 fits worse than G_3

# %% [markdown]
# The nested errors never go up, and that is a theorem, not a finding: the best member of
# $\mathcal{F}_k$ is also a member of $\mathcal{F}_{k+1}$ (with the new coefficient 0), so the
# best member of $\mathcal{F}_{k+1}$ is at least as good. (They can stay flat: from degree 3 on
# the gentle wave is fitted, so the odd degrees above 3 add almost nothing; only the even ones
# improve the peak.) The bump classes
# zig-zag: $\mathcal{G}_4$ is "bigger" than $\mathcal{G}_3$ (one more parameter) yet further
# from $f^*$, because it has no bump at 0 where the peak is. This is the left panel of the
# notes' figure, where $\mathcal{F}_6$ ends up further away than $\mathcal{F}_3$.
#
# ### The deep version: layers that can be the identity
#
# For deep networks: if a newly added layer can be trained into the **identity mapping**
# $f(\mathbf{x}) = \mathbf{x}$, the new model is as good as the old one, so the deeper class
# contains the shallower one. And since the new model may find a better solution for the
# training data, adding layers seems to make the training error easier to lower. The
# identity is within reach of plain networks too: a plain layer *can* represent it, so plain
# networks are nested in principle. The difference is how easy the identity is to reach.
# ResNet's core idea, in the notes' words: every additional layer should *more easily* contain
# the original function as one of its elements
# (每个附加层都应该更容易地包含原始函数作为其元素之一). Each residual block computes
# $\mathrm{ReLU}(\mathbf{x} + g(\mathbf{x}))$, so it is the identity as soon as its residual
# branch $g$ outputs 0, and on the non-negative outputs of a ReLU,
# $\mathrm{ReLU}(\mathbf{x}) = \mathbf{x}$.
#
# Let us make this concrete on a small network, trained for 200 steps on synthetic 8x8 images
# (is the left half brighter than the right?). `train` is the usual loop (SGD with momentum
# on random batches of 64); it returns the **training loss**, the loss on all 512 images with
# BatchNorm on its running statistics (eval mode), before the first step and after every
# `every` steps.

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
# ### Growing the trained network, four ways
#
# Now put new layers between the trained `body` and `head`, in three ways, with the same
# number of conv layers each time: two residual blocks hold four conv layers, so the plain
# variant gets four conv-BN-ReLU layers (the same parameters too).
#
# * **plain**: four conv-BN-ReLU layers at PyTorch's default init;
# * **residual**: two residual blocks at default init;
# * **zero-init**: the same two blocks after `zero_init_()`, which sets the weight $\gamma$ and
#   the bias $\beta$ of each block's last BatchNorm to 0 (the notes: set the weight and bias of
#   the upper weighted layer to 0), so its residual branch outputs exactly 0;
# * **control**: nothing added, the small net alone.
#
# Each variant gets its own copy of the trained weights. First, which of them still computes
# the small net's function at insertion, in eval mode (BatchNorm on its running statistics, so
# each layer computes one fixed function, whatever the batch):

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
# Only the zero-initialised blocks leave the function as it was, to the last bit. Now train all
# four from there, with the same batches and the same optimiser (SGD, learning rate 0.02,
# momentum 0.9), on several seeds (a seed draws both the new layers and the batches), and
# record the training loss from the moment of insertion (step 0). Under
# `D2LRESNET_PRESET=smoke` the run is short (30 steps, 3 seeds); otherwise 300 steps on 5 seeds.

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
# What the curves show, on every seed of the run (the asserts above check it on this run's
# seeds):
#
# * **At insertion** the zero-initialised blocks leave the loss exactly where the small net
#   left it. Two residual blocks at default init raise it a little (a few times the small
#   net's loss); four plain layers throw it back to chance, about $\ln 2$: conv layers at
#   default init scramble the features the head was trained on.
# * **Right after insertion** the default-init residual net does *not* keep its small head
#   start: within a few dozen steps its loss climbs more than tenfold, up to about chance (printed
#   as "highest"). A residual block is the identity only when its branch outputs 0, and
#   at default init it does not. The plain net starts the climb back down from chance.
# * **Later** both default-init nets come back and pass the control: after 300 steps both are
#   below it, the residual one lowest (a `smoke` run stops at 30 steps, before this; any other
#   preset runs 300, and the last assert above checks it). The zero-init net follows the
#   control all along, within a few per cent.
#
# So the notes' argument holds in this sense: a residual block set to 0 is the identity with no
# training at all, so the deeper network starts with everything the small one learned and does
# not lose it. What the notes go on to say, that adding layers seems to make the training error
# *easier to lower*, is not what the zero-init net shows here: it ends within a few per cent of
# the control. The nets that end lowest are those whose new layers were *not* the identity and
# lost the trained function first. Why the zero-init blocks barely move: while $\gamma = 0$, no
# gradient reaches the convolutions of their branch, only $\gamma$ and $\beta$ of its last
# BatchNorm get one; and on a task the small net has already solved, that gradient is small.

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
# ## Summary
#
# * A network architecture defines a class of functions; training picks the member with the
#   smallest training loss. A bigger class is sure to be not worse only if it contains the
#   smaller one (nested function classes); a bigger class that does not can end up further away.
# * A deeper network contains the shallower one when its added layers can be the identity
#   mapping. A residual block is the identity as soon as the weight and bias of its branch's
#   last layer are 0 (`zero_init_()`), with no training.
# * Measured on a small net: zero-initialised residual blocks keep the trained net's loss
#   exactly and then follow the control. Layers at default init, plain or residual, first throw
#   away what the net had learned (plain at once, residual within a few dozen steps); on this easy
#   task they then end below the control. Zero init protects what was learned; here it did not
#   make the loss go down faster.

# %% [markdown]
# ## Exercises
#
# Each exercise has an answer cell: replace its `...` with your answer (a number, or code that
# computes it) and run it, then run the check below it. The check says whether you are right
# and, when you are not, gives a hint; it computes the right answer from the module, so the
# answer is written nowhere in this notebook. Under each check a worked solution is folded
# away: click the three dots (JupyterLab) or *Show code* (Colab) to open it. The copies an
# instructor hands out (`make student`) leave the solutions out.

# %%
from d2lresnet import exercises

# %% [markdown]
# **Exercise 1.** The insertion experiment put two residual blocks of 8 channels
# (`Residual(8, 8)`) between the trained `body` and `head`. How many parameters do those two
# blocks add? Count by hand: each block has two 3x3 convolutions and two batch normalization
# layers.

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
# **Exercise 2.** Which of the bump classes $\mathcal{G}_1, \dots, \mathcal{G}_8$
# contain $\mathcal{G}_1$, the single bump at 0? Answer with the list of their $k$. Reason from
# where the bumps sit, then try `contains(bumps(k), bumps(1))`.

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
