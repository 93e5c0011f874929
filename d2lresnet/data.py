"""Fashion-MNIST (6.4), found offline when possible, held in memory as uint8, batched fast.

Where the four files come from, in order: an explicit ``root``; the folder named by
``D2LRESNET_DATA``; our cache (``D2LRESNET_CACHE``, default ~/.cache/d2lresnet); Debian's
``dataset-fashion-mnist`` package; last, torchvision's download. Every file is checked by md5,
so a truncated or corrupt file is an error, never a silently wrong dataset.
"""
import contextlib
import functools
import gzip
import hashlib
import math
import os
import tempfile
import zlib
from pathlib import Path

import torch
import torchvision
from torch.nn import functional as F

from . import i18n
from .checks import true_or_false, whole_number

__all__ = ["CLASS_NAMES", "TRAIN_IMAGES", "TEST_IMAGES", "FILES", "DataError", "class_names",
           "get_fashion_mnist_labels", "cache_dir", "find_fashion_mnist", "load_fashion_mnist",
           "FashionMNISTBatches", "random_flip_and_shift", "load_data_fashion_mnist",
           "load_data_fashion_mnist_book"]

TRAIN_IMAGES, TEST_IMAGES = 60_000, 10_000  # the files' sizes (their md5s are below)
CLASS_NAMES = ["t-shirt", "trouser", "pullover", "dress", "coat",
               "sandal", "shirt", "sneaker", "bag", "ankle boot"]

# md5 of the decompressed files (REFERENCE.md); the .gz bytes differ between distributors.
FILES = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")


class DataError(RuntimeError):
    """Fashion-MNIST could not be found, or a file is damaged."""


def class_names():
    """The ten class names in the i18n language (D2L zh's T恤, 裤子, ... in Chinese), for
    figure titles and tick labels: i18n.label, so English where no CJK font is found.
    CLASS_NAMES stays the English list."""
    return [i18n.label("class_" + name.replace("-", "_").replace(" ", "_"))
            for name in CLASS_NAMES]


def get_fashion_mnist_labels(labels):
    """Text labels for numeric ones, as in the book, in the i18n language (class_names())."""
    names = class_names()
    labels = labels.tolist() if hasattr(labels, "tolist") else labels  # a tensor, an array
    # names[-1] would quietly be the last class, names[10] an IndexError.
    return [names[whole_number("a label", i, 0, len(names) - 1)] for i in labels]


def cache_dir():
    # Empty counts as unset: Path("") is the working folder, and 53 MB would land there.
    return Path(os.environ.get("D2LRESNET_CACHE") or Path.home() / ".cache" / "d2lresnet")


def _md5(path):
    stat = Path(path).stat()
    return _md5_of(os.path.abspath(path), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


@functools.cache
def _md5_of(path, size, mtime_ns, ctime_ns):
    # Once per process for each file: every load checks the four files, and a file that
    # changes (its size or times) is hashed again.
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "md5").hexdigest()


def _raw_dir(root):
    return Path(root) / "FashionMNIST" / "raw"


def _check_raw(raw):
    """True if raw/ holds all four files, each with the right md5; DataError if one is damaged."""
    if not all((raw / name).is_file() for name in FILES):
        return False
    for name, expected in FILES.items():
        if _md5(raw / name) != expected:
            raise DataError(f"{raw / name} is truncated or corrupt (md5 differs from the "
                            f"published one); delete it and run again to fetch a fresh copy")
    return True


def _four_files(folder):
    """{name: path} of the four files in a flat folder, .gz or not; None unless all are there."""
    folder, sources = Path(folder), {}
    for name in FILES:
        for candidate in (folder / name, folder / (name + ".gz")):
            if candidate.is_file():
                sources[name] = candidate
                break
    return sources if len(sources) == len(FILES) else None


def _chunks(src):
    """The bytes of src, decompressed if .gz, a megabyte at a time; DataError naming src."""
    try:
        with (gzip.open(src) if src.suffix == ".gz" else open(src, "rb")) as f:
            while chunk := f.read(1 << 20):
                yield chunk
    except (OSError, EOFError, zlib.error) as err:  # a truncated .gz ends early
        raise DataError(f"{src} could not be read ({err}); it is truncated or corrupt") from err


def _install(sources, cache):
    """Verified copies of the four files in the cache's FashionMNIST/raw/.

    Each file is checked while it is copied to a temporary file, and moved into place only if
    its md5 is right: a verified file is never replaced by an unverified one, and the error
    names the damaged source. A file already right in the cache is only compared, not
    rewritten, so a read-only cache that holds the data works."""
    raw = _raw_dir(cache)
    for name, src in sources.items():
        dest, tmp = raw / name, None
        keep = dest.is_file() and _md5(dest) == FILES[name]
        digest = hashlib.md5()
        try:
            if not keep:
                raw.mkdir(parents=True, exist_ok=True)
                # A new file of our own (O_EXCL, random name): a link planted in a shared
                # cache under a name we would pick is never written through.
                fd, tmp = tempfile.mkstemp(dir=raw, prefix=f".{name}.", suffix=".part")
                tmp = Path(tmp)
            with (contextlib.nullcontext() if keep else os.fdopen(fd, "wb")) as out:
                for chunk in _chunks(src):
                    digest.update(chunk)
                    if out:
                        out.write(chunk)
            if digest.hexdigest() != FILES[name]:
                kept = f"the good copy {dest} is kept" if keep else "nothing was copied"
                raise DataError(f"{src} is truncated or corrupt (its md5 differs from the "
                                f"published one); {kept}")
            if not keep:
                tmp.replace(dest)
        except OSError as err:  # reading errors are DataErrors already: this is the cache
            raise DataError(f"cannot write the cache {cache} ({err.strerror or err}); set "
                            f"D2LRESNET_CACHE to a folder you can write") from err
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    tmp.unlink()


def find_fashion_mnist(root=None, download=True):
    """A torchvision root folder holding verified Fashion-MNIST; see the module docstring.

    Nothing is ever written into ``root`` or ``D2LRESNET_DATA``: a folder in torchvision's
    layout is used where it is, four loose files are copied (verified) into the cache. A
    ``root`` without the data is an error, not a reason to look elsewhere."""
    tried, cache = [], cache_dir()
    for label, folder in [("root", root), ("D2LRESNET_DATA", os.environ.get("D2LRESNET_DATA"))]:
        if not folder:
            continue
        if _check_raw(_raw_dir(folder)):
            return Path(folder)
        sources = _four_files(folder)
        if sources:
            _install(sources, cache)
            return cache
        if label == "root":  # a folder asked for by name: never silently another one
            raise DataError(f"Fashion-MNIST is not in {folder}: neither the four "
                            f"*-ubyte(.gz) files nor FashionMNIST/raw/ are there")
        tried.append(f"{label}={folder} (neither the four *-ubyte(.gz) files nor "
                     f"FashionMNIST/raw/ found there)")
    if _check_raw(_raw_dir(cache)):
        return cache
    tried.append(f"the cache {cache} (set D2LRESNET_CACHE to move it)")
    sources = _four_files(DEBIAN_DIR)
    if sources:
        _install(sources, cache)
        return cache
    tried.append(f"Debian's package at {DEBIAN_DIR} "
                 f"(sudo apt-get install dataset-fashion-mnist)")
    if download:
        try:
            # Into a new folder of our own, then verified into the cache like any other source:
            # torchvision would write through whatever already lies in the cache's raw/.
            cache.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=cache, prefix=".download.") as fetched:
                torchvision.datasets.FashionMNIST(fetched, download=True)
                sources = _four_files(_raw_dir(fetched))
                if sources:
                    _install(sources, cache)
            if _check_raw(_raw_dir(cache)):
                return cache
        except (OSError, RuntimeError) as err:  # URLError is an OSError
            tried.append(f"torchvision's download ({err})")
    raise DataError("Fashion-MNIST not found. Tried:\n  - " + "\n  - ".join(tried) +
                    "\nAny one of these works: pass root=, point D2LRESNET_DATA at a folder with "
                    "the four *-ubyte(.gz) files, install dataset-fashion-mnist, or go online.")


def load_fashion_mnist(train=True, root=None):
    """The whole split as (images uint8 [N, 28, 28], labels int64 [N]), read from the raw
    files whose md5 was just checked. Never torchvision's FashionMNIST(root): it prefers an
    old processed/{training,test}.pt beside them, which nothing has verified."""
    from torchvision.datasets.mnist import read_image_file, read_label_file

    raw = _raw_dir(find_fashion_mnist(root))
    prefix = "train" if train else "t10k"
    images = read_image_file(str(raw / f"{prefix}-images-idx3-ubyte"))
    labels = read_label_file(str(raw / f"{prefix}-labels-idx1-ubyte"))
    return images, labels


SEED_MAX = 2**32 - 1  # NumPy's range; seed * 100_003 + epoch then fits a 64-bit generator seed


def _image_size(name, size):
    """None, a side, or (height, width), as plain ints; ValueError naming ``name`` otherwise."""
    if size is None:
        return None
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return tuple(whole_number(name, side) for side in size)
    return (whole_number(name, size),) * 2


def _sides(progressive):
    if not isinstance(progressive, (tuple, list)):
        raise ValueError(f"progressive must be a sequence of sides such as (28, 32), "
                         f"got {progressive!r}")
    return tuple(whole_number("a progressive size", side) for side in progressive)


class FashionMNISTBatches:
    """Minibatches from one uint8 tensor in memory, resized a batch at a time.

    Pixels come out as float in [0, 1], shape (batch, 1, H, W), as the book's ToTensor gives.
    Shuffling (and augmentation) is seeded by (seed, epoch), so an epoch can be replayed exactly:
    the trainer sets ``epoch`` when it resumes.

    drop_last_single=True (for training): a last batch of a single example is left out of the
    epoch, as PyTorch's ``drop_last`` would. BatchNorm normalises each channel over the batch,
    and one example at ResNet's last 1x1 stage has nothing to normalise against. The order is
    reshuffled every epoch, so a different example sits out each time.

    progressive=(28, 32): progressive resizing, the first epochs at these sides (cheap, coarse
    shapes first), every later epoch at resize.
    """

    def __init__(self, images, labels, batch_size, shuffle=False, resize=None, augment=False,
                 seed=0, drop_last_single=False, progressive=(), alternate_flips=False):
        self.batch_size = whole_number("batch_size", batch_size, 2 if drop_last_single else 1)
        self.seed = whole_number("seed", seed, 0, SEED_MAX)
        if len(images) != len(labels):
            raise ValueError(f"images and labels must be as many: {len(images)} images, "
                             f"{len(labels)} labels")
        if drop_last_single and len(labels) < 2:
            raise ValueError(f"training needs at least 2 examples, got {len(labels)}")
        self.images, self.labels = images, labels
        self.shuffle = true_or_false("shuffle", shuffle)
        self.augment = true_or_false("augment", augment)
        self.resize = _image_size("resize", resize)
        self.progressive = _sides(progressive)
        self.drop_last_single = drop_last_single
        self.alternate_flips = true_or_false("alternate_flips", alternate_flips)
        self.epoch = 0

    def __len__(self):
        batches = math.ceil(len(self.labels) / self.batch_size)
        return batches - 1 if self._drops_last() else batches

    def _drops_last(self):
        return self.drop_last_single and len(self.labels) % self.batch_size == 1

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        size = self.resize
        if self.epoch < len(self.progressive):
            size = (self.progressive[self.epoch],) * 2
        self.epoch += 1
        n = len(self.labels)
        order = torch.randperm(n, generator=generator) if self.shuffle else torch.arange(n)
        if self._drops_last():
            order = order[:-1]
        mirrored = None
        if self.alternate_flips:  # a fixed half of the images in even epochs, the rest in odd
            first = torch.rand(n, generator=torch.Generator().manual_seed(self.seed)) < 0.5
            mirrored = first ^ bool((self.epoch - 1) % 2)
        for idx in order.split(self.batch_size):
            X = self.images[idx].unsqueeze(1).float().div_(255)
            if self.augment:
                X = random_flip_and_shift(X, generator,
                                          flip=None if mirrored is None else mirrored[idx])
            if size and tuple(X.shape[-2:]) != size:
                X = F.interpolate(X, size=size, mode="bilinear", align_corners=False)
            yield X, self.labels[idx]


def random_flip_and_shift(X, generator, max_shift=2, flip=None):
    """Mirror half the images left-right (or those where flip is True) and move each by up to
    max_shift pixels."""
    if flip is None:
        flip = torch.rand(len(X), generator=generator) < 0.5
    X = torch.where(flip[:, None, None, None], X.flip(-1), X)
    padded = F.pad(X, [max_shift] * 4)
    shifts = torch.randint(0, 2 * max_shift + 1, (len(X), 2), generator=generator).tolist()
    h, w = X.shape[-2:]
    return torch.stack([img[:, dy:dy + h, dx:dx + w] for img, (dy, dx) in zip(padded, shifts)])


def load_data_fashion_mnist(batch_size, resize=None, root=None, augment=False, seed=0,
                            limit=None, test_limit=None, progressive=(), alternate_flips=False):
    """The book's function, fast: (train_iter, test_iter); train shuffled, test in order.

    progressive: sides for the first training epochs (see FashionMNISTBatches); the test set
    is always at resize.

    limit / test_limit keep only the first N examples (for smoke tests). Training batches
    hold at least 2 examples: a lone last example sits out its epoch (see FashionMNISTBatches).
    """
    # Every argument is checked before the data is read, not after.
    whole_number("batch_size", batch_size, 2)
    whole_number("seed", seed, 0, SEED_MAX)
    _image_size("resize", resize)
    true_or_false("augment", augment)
    true_or_false("alternate_flips", alternate_flips)
    _sides(progressive)
    limit = None if limit is None else whole_number("limit", limit, 2)
    test_limit = None if test_limit is None else whole_number("test_limit", test_limit, 1)
    train_images, train_labels = load_fashion_mnist(True, root)
    test_images, test_labels = load_fashion_mnist(False, root)
    train_iter = FashionMNISTBatches(train_images[:limit], train_labels[:limit], batch_size,
                                     shuffle=True, resize=resize, augment=augment, seed=seed,
                                     drop_last_single=True, progressive=progressive,
                                     alternate_flips=alternate_flips)
    test_iter = FashionMNISTBatches(test_images[:test_limit], test_labels[:test_limit],
                                    batch_size, resize=resize)
    return train_iter, test_iter


def load_data_fashion_mnist_book(batch_size, resize=None, root=None, num_workers=4):
    """The book's own pipeline, kept for comparison: PIL Resize per image, ToTensor, and a
    DataLoader with worker processes."""
    from torch.utils import data
    from torchvision import transforms

    trans = [transforms.ToTensor()]
    if resize:
        trans.insert(0, transforms.Resize(resize))
    trans = transforms.Compose(trans)
    root = find_fashion_mnist(root)
    mnist_train = torchvision.datasets.FashionMNIST(root, train=True, transform=trans)
    mnist_test = torchvision.datasets.FashionMNIST(root, train=False, transform=trans)
    for dataset, train in ((mnist_train, True), (mnist_test, False)):  # the verified files,
        dataset.data, dataset.targets = load_fashion_mnist(train, root)  # not processed/*.pt
    return (data.DataLoader(mnist_train, batch_size, shuffle=True, num_workers=num_workers),
            data.DataLoader(mnist_test, batch_size, shuffle=False, num_workers=num_workers))
