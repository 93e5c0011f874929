"""Tricks from the CIFAR-10 speed records (airbench; Page, "How to train your ResNet"), each one
a field of a training recipe that train() applies. What each is worth on Fashion-MNIST, measured
on several seeds, is the ablation table in the README and notebook 08.

    zero_init_residual  every residual branch starts at 0: each block begins as the identity
    whiten_stem         the stem's filters start as the whitening of the images' patches
    decay_norm_and_bias False: no weight decay on BatchNorm's gamma/beta and on biases
    bn_bias_lr          BatchNorm's beta learns this many times faster than the rest
    lookahead           every 5 steps the weights are pulled back toward a slow average
"""
import torch
from torch import nn
from torch.nn import functional as F

from .model import zero_init_residual_  # noqa: F401 (the recipe's first trick, with the rest)


def whiten_stem_(net, train_iter, max_patches=200_000, eps=5e-4):
    """Set the first convolution's filters to the whitening of the training images' patches:
    the top eigenvectors of the patch covariance, each divided by the square root of its
    eigenvalue, and their negatives (so a ReLU after it keeps both signs). Filters beyond
    twice the patch size keep their initial weights. The images are read as train_iter
    yields them (its shuffle is put back afterwards)."""
    conv = next(m for m in net.modules() if isinstance(m, nn.Conv2d))
    epoch = getattr(train_iter, "epoch", None)
    images, count = [], 0
    for X, _ in train_iter:
        images.append(X)
        count += len(X) * (X.shape[-1] - conv.kernel_size[-1] + 1) ** 2
        if count >= max_patches:
            break
    if epoch is not None:
        train_iter.epoch = epoch
    patches = F.unfold(torch.cat(images).float(), conv.kernel_size).transpose(1, 2)
    patches = patches.reshape(-1, patches.shape[-1])[:max_patches].double()
    patches -= patches.mean(dim=0)
    eigenvalues, eigenvectors = torch.linalg.eigh(patches.T @ patches / len(patches))
    n = min(conv.out_channels // 2, len(eigenvalues))
    top = eigenvectors[:, -n:].T / (eigenvalues[-n:, None] + eps).sqrt()  # largest last
    filters = torch.cat([top, -top]).reshape(2 * n, *conv.weight.shape[1:])
    with torch.no_grad():
        conv.weight[:2 * n] = filters.to(conv.weight)
        if conv.bias is not None:
            conv.bias.zero_()
    return net


def parameter_groups(net, lr, weight_decay, decay_norm_and_bias=True, bn_bias_lr=1.0):
    """SGD's parameter groups: weights; BatchNorm's gamma and the biases (no weight decay if
    decay_norm_and_bias is False); BatchNorm's beta at lr * bn_bias_lr (same decay rule)."""
    bn_biases, norm_and_biases, weights = [], [], []
    for module in net.modules():
        for name, p in module.named_parameters(recurse=False):
            if isinstance(module, nn.modules.batchnorm._BatchNorm) and name == "bias":
                bn_biases.append(p)
            elif p.ndim <= 1:
                norm_and_biases.append(p)
            else:
                weights.append(p)
    norm_decay = weight_decay if decay_norm_and_bias else 0.0
    groups = [{"params": weights, "lr": lr, "weight_decay": weight_decay},
              {"params": norm_and_biases, "lr": lr, "weight_decay": norm_decay},
              {"params": bn_biases, "lr": lr * bn_bias_lr, "weight_decay": norm_decay}]
    return [g for g in groups if g["params"]]


class Lookahead:
    """airbench's lookahead: every `every` steps the slow weights move toward the trained
    ones, and training restarts from them. The pull is none at the start and grows with the
    cube of the run's progress; BatchNorm's running statistics follow faster (momentum 0.4)
    so that they describe the weights they are used with. finish() leaves the slow weights in
    the net. The slow weights are not checkpointed: a resumed run takes them afresh from the
    saved weights."""

    def __init__(self, net, total_steps, every=5, decay=0.95 ** 5):
        self.params = [p for p in net.parameters()]
        self.slow = [p.detach().clone() for p in self.params]
        self.total_steps, self.every, self.decay = total_steps, every, decay
        for module in net.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.momentum = 0.4

    @torch.no_grad()
    def step(self, step):
        if step % self.every:
            return
        decay = self.decay * (step / self.total_steps) ** 3
        for slow, p in zip(self.slow, self.params):
            slow.lerp_(p.detach(), 1 - decay)
            p.copy_(slow)

    @torch.no_grad()
    def finish(self):
        for slow, p in zip(self.slow, self.params):
            p.copy_(slow)
