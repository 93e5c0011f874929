"""Named training recipes: the notes' own (book), one for a 2-core CPU (quick), one for the best
result in half an hour (best), one for CI (smoke).

``D2LRESNET_PRESET`` picks the default: CI sets ``smoke`` so the training notebook takes seconds.
"""
import dataclasses
import os
from dataclasses import dataclass, field

import torch

from .train import Recipe

@dataclass(frozen=True)
class TwinsRun:
    """The size of notebook 06's degradation experiment at a preset: plain and residual 6n+2
    twins of these depths, on the first train_size training images, for these seeds. The
    default is the saved run: 80 epochs, plain-56 still far above the others at the end."""
    depths: tuple = (20, 56)
    seeds: tuple = (0, 1, 2)
    train_size: int = 2000
    epochs: int = 80
    batch_size: int = 128

    def __post_init__(self):  # read back from JSON (lists), it equals the original
        object.__setattr__(self, "depths", tuple(self.depths))
        object.__setattr__(self, "seeds", tuple(self.seeds))


@dataclass(frozen=True)
class Preset(Recipe):
    """A whole recipe: the optimiser's settings (train.Recipe: momentum, one-cycle, label
    smoothing, the speed records' tricks...), the learning rate and epochs, and the data."""
    name: str
    resize: int | None      # images are resized to resize x resize (None: Fashion-MNIST's 28)
    num_epochs: int
    lr: float               # with one_cycle, the peak learning rate
    batch_size: int
    augment: bool = False   # random flips and 2-pixel shifts of the training images
    limit: int | None = None       # use only the first `limit` training examples
    test_limit: int | None = None
    progressive: tuple = ()  # progressive resizing: the first epochs at these sides, then resize
    alternate_flips: bool = False  # each image mirrored every other epoch, not at random
    # what the recipe is, in words, and notebook 06's experiment at this preset's size: neither
    # is part of training ResNet-18, so two presets that train alike are equal whatever they
    # say (and a resume ignores them)
    about: str = field(default="", compare=False)
    twins: TwinsRun = field(default=TwinsRun(), compare=False)

    def __post_init__(self):
        # A preset read back from a saved run's JSON (lists, not tuples) equals the original.
        object.__setattr__(self, "progressive", tuple(self.progressive))
        if isinstance(self.twins, dict):
            object.__setattr__(self, "twins", TwinsRun(**self.twins))

    def data_options(self):
        """The keyword arguments of d2lresnet.data.load_data_fashion_mnist that it sets."""
        return {"resize": self.resize, "augment": self.augment, "limit": self.limit,
                "test_limit": self.test_limit, "progressive": self.progressive,
                "alternate_flips": self.alternate_flips}

    def train_options(self):
        """The keyword arguments of d2lresnet.train.train that this recipe sets: the fields
        of train.Recipe."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(Recipe)}


PRESETS = {
    "book": Preset("book", resize=96, num_epochs=10, lr=0.05, batch_size=256,
                   about="the notes' recipe exactly: 96x96, 10 epochs, plain SGD, lr 0.05"),
    # 48x48 costs a quarter of 96x96 yet leaves b5 a 2x2 map; a one-cycle schedule with
    # Nesterov momentum converges in few epochs; label smoothing, flips and shifts keep the
    # short run from overfitting; the stem's filters start as the whitening of the images'
    # patches (tricks.py), ahead of Xavier's on every seed tried at three budgets. (What it
    # reaches, and in how long, is in the README.)
    "quick": Preset("quick", resize=48, num_epochs=5, lr=0.1, batch_size=256, momentum=0.9,
                    nesterov=True, weight_decay=5e-4, one_cycle=True, label_smoothing=0.1,
                    augment=True, whiten_stem=True,
                    twins=TwinsRun(train_size=1000, epochs=30, batch_size=64),
                    about="for a CPU: 48x48 (a quarter of the book's pixels), 5 epochs with a "
                          "one-cycle schedule, Nesterov momentum, label smoothing, flips and "
                          "shifts, and a whitened stem"),
    # Longer, and finer where it counts: 7 epochs at 64x64, test-time flips beside the plain
    # figure. Progressive resizing (6 epochs at 48, then 3 at 64) spent the same compute for a
    # lower accuracy (README, "Compute to accuracy"; notebooks/figures/recipes_gpu.json).
    "best": Preset("best", resize=64, num_epochs=7, lr=0.1, batch_size=256, momentum=0.9,
                   nesterov=True, weight_decay=5e-4, one_cycle=True, label_smoothing=0.1,
                   augment=True, test_flips=True,
                   about="7 epochs at 64x64 with the quick recipe's schedule, and test-time "
                         "flips reported separately"),
    # smoke's twins: a couple of minutes on a busy 2-core CPU, too short for a plateau, long
    # enough for the deeper plain net to fall behind (checked on seeds 0-8)
    "smoke": Preset("smoke", resize=None, num_epochs=2, lr=0.05, batch_size=64, limit=512,
                    test_limit=256, twins=TwinsRun(depths=(8, 20), train_size=192, epochs=6,
                                                   batch_size=32),
                    about="seconds, for CI: 512 examples at 28x28, 2 epochs"),
}


def default_preset_name():
    """D2LRESNET_PRESET if set, else `book` on a GPU and `quick` on a CPU."""
    return os.environ.get("D2LRESNET_PRESET") or ("book" if torch.cuda.is_available()
                                                   else "quick")


def get_preset(name=None, **overrides):
    """A preset by name (default: default_preset_name()), with fields overridden."""
    name = name or default_preset_name()
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    unknown = set(overrides) - {f.name for f in dataclasses.fields(Preset)}
    if unknown:
        raise ValueError(f"a preset has no field(s) {', '.join(sorted(unknown))}")
    return dataclasses.replace(PRESETS[name], **overrides)
