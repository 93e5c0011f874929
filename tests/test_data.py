import gzip
import math
import shutil

import numpy as np
import pytest
import torch

from d2lresnet import data
from d2lresnet.data import (CLASS_NAMES, DataError, FILES, find_fashion_mnist,
                            get_fashion_mnist_labels, load_data_fashion_mnist,
                            load_data_fashion_mnist_book)
from readonly import read_only


@pytest.fixture(scope="module")
def raw_files():
    """The verified, decompressed files wherever this machine keeps them."""
    return data._raw_dir(find_fashion_mnist())


def _folder_of_four(raw_files, folder, compress):
    folder.mkdir()
    for name in FILES:
        if compress:
            with open(raw_files / name, "rb") as fin, gzip.open(folder / (name + ".gz"), "wb",
                                                                compresslevel=1) as fout:
                shutil.copyfileobj(fin, fout)
        else:
            shutil.copy(raw_files / name, folder / name)
    return folder


@pytest.mark.parametrize("compress", [True, False])
def test_offline_from_a_folder_named_by_the_environment(raw_files, empty_cache, tmp_path,
                                                        monkeypatch, compress):
    folder = _folder_of_four(raw_files, tmp_path / "four", compress)
    monkeypatch.setenv("D2LRESNET_DATA", str(folder))
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "no-debian")
    assert find_fashion_mnist(download=False) == empty_cache
    images, labels = data.load_fashion_mnist(train=False)
    assert images.shape == (10_000, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (10_000,) and set(labels.tolist()) == set(range(10))


def _tree(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _flip_a_byte(path, offset=5000):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def test_explicit_root_comes_first_and_is_never_written_to(raw_files, empty_cache, tmp_path,
                                                           monkeypatch):
    root = _folder_of_four(raw_files, tmp_path / "root", compress=False)
    monkeypatch.setenv("D2LRESNET_DATA", str(tmp_path / "does-not-exist"))
    before = _tree(root)
    assert find_fashion_mnist(root, download=False) == empty_cache
    assert _tree(root) == before  # no FashionMNIST/raw/ in the user's folder
    assert data._check_raw(data._raw_dir(empty_cache))


def _cache_with_the_data(raw_files, cache):
    raw = data._raw_dir(cache)
    raw.mkdir(parents=True)
    for name in FILES:
        shutil.copy(raw_files / name, raw / name)
    return raw


def test_a_damaged_source_never_replaces_a_good_cache(raw_files, empty_cache, tmp_path,
                                                      monkeypatch):
    raw = _cache_with_the_data(raw_files, empty_cache)
    source = _folder_of_four(raw_files, tmp_path / "four", compress=False)
    _flip_a_byte(source / "train-images-idx3-ubyte")
    monkeypatch.setenv("D2LRESNET_DATA", str(source))
    with pytest.raises(DataError) as err:
        find_fashion_mnist(download=False)
    assert str(source / "train-images-idx3-ubyte") in str(err.value)  # names the bad source
    assert "truncated or corrupt" in str(err.value)
    assert data._check_raw(raw)  # the good cache is intact
    assert not list(raw.glob("*.part"))


def test_a_good_cache_is_not_rewritten(raw_files, empty_cache, tmp_path, monkeypatch):
    raw = _cache_with_the_data(raw_files, empty_cache)
    stamps = {p.name: p.stat().st_mtime_ns for p in raw.iterdir()}
    monkeypatch.setenv("D2LRESNET_DATA", str(_folder_of_four(raw_files, tmp_path / "four",
                                                             compress=True)))
    assert find_fashion_mnist(download=False) == empty_cache
    assert {p.name: p.stat().st_mtime_ns for p in raw.iterdir()} == stamps


def test_read_only_data_folder_and_cache_are_accepted(raw_files, empty_cache, tmp_path,
                                                      monkeypatch):
    source = _folder_of_four(raw_files, tmp_path / "four", compress=False)
    _cache_with_the_data(raw_files, empty_cache)
    monkeypatch.setenv("D2LRESNET_DATA", str(source))
    with read_only(source), read_only(empty_cache):
        assert find_fashion_mnist(download=False) == empty_cache  # via D2LRESNET_DATA
        assert find_fashion_mnist(source, download=False) == empty_cache  # via --data
        images, _ = data.load_fashion_mnist(train=False, root=source)
        assert images.shape == (10_000, 28, 28)


def test_read_only_torchvision_layout_is_used_where_it_is(raw_files, empty_cache, tmp_path):
    root = tmp_path / "root"
    _cache_with_the_data(raw_files, root)
    with read_only(root):
        assert find_fashion_mnist(root, download=False) == root
    assert not empty_cache.exists()


def test_an_unwritable_cache_that_needs_the_data_says_so(raw_files, empty_cache, tmp_path):
    source = _folder_of_four(raw_files, tmp_path / "four", compress=True)
    empty_cache.mkdir()
    with read_only(empty_cache), pytest.raises(DataError, match="cannot write the cache"):
        find_fashion_mnist(source, download=False)


def test_truncated_gz_is_a_clear_error(raw_files, empty_cache, tmp_path, monkeypatch):
    folder = _folder_of_four(raw_files, tmp_path / "four", compress=True)
    damaged = folder / "train-labels-idx1-ubyte.gz"
    damaged.write_bytes(damaged.read_bytes()[:1000])
    monkeypatch.setenv("D2LRESNET_DATA", str(folder))
    with pytest.raises(DataError, match="truncated or corrupt"):
        find_fashion_mnist(download=False)


def test_corrupt_file_in_the_cache_is_a_clear_error(raw_files, empty_cache, monkeypatch,
                                                    tmp_path):
    raw = _cache_with_the_data(raw_files, empty_cache)
    _flip_a_byte(raw / "t10k-images-idx3-ubyte")
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte is truncated or corrupt"):
        find_fashion_mnist(download=False)


def test_nothing_found_names_every_option(empty_cache, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "no-debian")

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(data.torchvision.datasets, "FashionMNIST", offline)
    with pytest.raises(DataError) as err:
        find_fashion_mnist()
    message = str(err.value)
    for option in ["root=", "D2LRESNET_DATA", "cache", "dataset-fashion-mnist",
                   "download (network is unreachable)"]:
        assert option in message


def test_batches_keep_the_books_meaning():
    train_iter, test_iter = load_data_fashion_mnist(32, resize=64)
    assert len(train_iter) == math.ceil(60_000 / 32) and len(test_iter) == math.ceil(10_000 / 32)
    assert (len(train_iter.labels), len(test_iter.labels)) == (data.TRAIN_IMAGES, data.TEST_IMAGES)
    X, y = next(iter(train_iter))
    assert X.shape == (32, 1, 64, 64) and X.dtype == torch.float32
    assert X.min() >= 0 and X.max() <= 1 and X.max() > 0.9
    assert y.dtype == torch.int64
    _, test_labels = data.load_fashion_mnist(train=False)
    assert torch.equal(next(iter(test_iter))[1], test_labels[:32])      # test: in order
    train_images, train_labels = data.load_fashion_mnist(train=True)
    assert not torch.equal(y, train_labels[:32])                         # train: shuffled


def test_shuffling_is_seeded_by_seed_and_epoch():
    def first_labels(seed, epoch):
        train_iter, _ = load_data_fashion_mnist(64, seed=seed)
        train_iter.epoch = epoch
        return next(iter(train_iter))[1]

    assert torch.equal(first_labels(0, 0), first_labels(0, 0))
    assert not torch.equal(first_labels(0, 0), first_labels(0, 1))
    assert not torch.equal(first_labels(0, 0), first_labels(1, 0))


def test_our_resize_matches_the_books_pil_resize():
    ours, _ = load_data_fashion_mnist(16, resize=96, limit=16)
    _, book_test = load_data_fashion_mnist_book(16, resize=96, num_workers=0)
    _, our_test = load_data_fashion_mnist(16, resize=96)
    X_book, y_book = next(iter(book_test))
    X_ours, y_ours = next(iter(our_test))
    assert X_book.shape == X_ours.shape == (16, 1, 96, 96)
    assert torch.equal(y_book, y_ours)
    assert (X_book - X_ours).abs().mean() < 0.01


def test_augmentation_flips_and_shifts_but_keeps_shape_and_range():
    train_iter, _ = load_data_fashion_mnist(128, augment=True, limit=128)
    plain_iter, _ = load_data_fashion_mnist(128, limit=128)
    X_aug, y_aug = next(iter(train_iter))
    X, y = next(iter(plain_iter))
    assert torch.equal(y, y_aug)  # same seed, same order
    assert X_aug.shape == X.shape and 0 <= X_aug.min() and X_aug.max() <= 1
    assert not torch.equal(X, X_aug)
    # a shift of at most 2 pixels, or a mirror, keeps the ink: totals barely move
    assert torch.allclose(X.sum((1, 2, 3)), X_aug.sum((1, 2, 3)), rtol=0.2)


def test_class_names():
    assert len(CLASS_NAMES) == 10
    assert get_fashion_mnist_labels(torch.tensor([0, 9, 5])) == ["t-shirt", "ankle boot",
                                                                 "sandal"]
    assert get_fashion_mnist_labels(np.array([1, 8])) == ["trouser", "bag"]
    assert get_fashion_mnist_labels([np.int64(2)]) == ["pullover"]


@pytest.mark.parametrize("labels", [[-1], [10], torch.tensor([3, 10]), [2.5]])
def test_a_label_outside_the_ten_classes_is_refused(labels):
    # names[-1] was quietly 'ankle boot'.
    with pytest.raises(ValueError, match=r"^a label must be a whole number from 0 to 9, got"):
        get_fashion_mnist_labels(labels)


def test_an_empty_cache_variable_means_the_default_not_the_working_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("D2LRESNET_CACHE", "")
    assert data.cache_dir() == tmp_path / "home" / ".cache" / "d2lresnet"
    monkeypatch.delenv("D2LRESNET_CACHE")
    assert data.cache_dir() == tmp_path / "home" / ".cache" / "d2lresnet"


def test_numpy_integers_are_taken_as_everywhere_else():
    train_iter, test_iter = load_data_fashion_mnist(np.int64(16), resize=np.int64(32),
                                                    seed=np.uint32(3), limit=np.int64(32),
                                                    test_limit=np.int64(16),
                                                    progressive=(np.int64(24),))
    assert [X.shape[-1] for X, _ in train_iter] == [24, 24]
    assert [tuple(X.shape) for X, _ in test_iter] == [(16, 1, 32, 32)]


def test_the_four_files_are_hashed_once_per_process_unless_they_change(raw_files, empty_cache,
                                                                       monkeypatch):
    raw = _cache_with_the_data(raw_files, empty_cache)
    hashed = []
    real_digest = data.hashlib.file_digest
    monkeypatch.setattr(data.hashlib, "file_digest",
                        lambda f, name: hashed.append(f.name) or real_digest(f, name))
    load_data_fashion_mnist(64, limit=64)
    load_data_fashion_mnist(64, limit=64)
    assert sorted(hashed) == sorted(str(raw / name) for name in FILES)
    _flip_a_byte(raw / "t10k-labels-idx1-ubyte")  # a file that changes is hashed again
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte is truncated or corrupt"):
        find_fashion_mnist(download=False)


def test_a_last_batch_of_one_example_sits_out_the_epoch():
    train_iter, test_iter = load_data_fashion_mnist(64, limit=65, test_limit=65)
    sizes = [len(y) for _, y in train_iter]
    assert sizes == [64] and len(train_iter) == 1  # not [64, 1]
    assert [len(y) for _, y in test_iter] == [64, 1]  # evaluation keeps every example
    assert len(load_data_fashion_mnist(64, limit=66)[0]) == 2  # a last batch of 2 stays


def test_training_with_a_lone_last_example_finishes():
    from d2lresnet import resnet18
    from d2lresnet.train import train

    torch.manual_seed(0)
    history = train(resnet18(), *load_data_fashion_mnist(64, limit=65, test_limit=64),
                    num_epochs=1, lr=0.05, device="cpu", progress=False)
    assert history.examples == [64]


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch_size=1), "batch_size must be a whole number of at least 2"),
    (dict(batch_size=64, limit=1), "limit must be a whole number of at least 2"),
    (dict(batch_size=0), "batch_size"),
    (dict(batch_size=64, seed=-1), "seed must be a whole number from 0 to 4294967295"),
    (dict(batch_size=64, seed=2**70), "seed"),
    (dict(batch_size=64, augment="no"), r"^augment must be True or False, got 'no'$"),
    (dict(batch_size=64, resize="28"), r"^resize must be a whole number of at least 1, got '28'$"),
    (dict(batch_size=64, resize=(28, 0)), r"^resize must be a whole number"),
    (dict(batch_size=64, progressive=28), r"^progressive must be a sequence of sides"),
    (dict(batch_size=64, progressive=(24, 0)), r"^a progressive size must be a whole number"),
])
def test_impossible_batching_is_refused_before_reading_the_data(kwargs, message, monkeypatch):
    monkeypatch.setattr(data, "load_fashion_mnist", lambda *a: pytest.fail("read the data"))
    with pytest.raises(ValueError, match=message):
        load_data_fashion_mnist(**kwargs)


def test_progressive_resizing_trains_small_first_and_tests_at_full_size():
    train_iter, test_iter = load_data_fashion_mnist(16, resize=40, limit=32, test_limit=16,
                                                    progressive=(24, 32))
    sides = [next(iter(train_iter))[0].shape[-1] for _ in range(4)]  # one iter() per epoch
    assert sides == [24, 32, 40, 40]
    assert next(iter(test_iter))[0].shape[-1] == 40
    train_iter.epoch = 1  # a resumed run replays epoch 2 at epoch 2's size
    assert next(iter(train_iter))[0].shape[-1] == 32


def test_a_bad_progressive_size_is_refused():
    with pytest.raises(ValueError, match="progressive"):
        load_data_fashion_mnist(16, resize=40, limit=32, progressive=(24, 0))


# Issue 35 ----------------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["cache", "root"])
def test_old_processed_files_never_replace_the_checked_ones(raw_files, empty_cache, tmp_path,
                                                            where):
    # torchvision's FashionMNIST(root) prefers processed/{training,test}.pt when both exist:
    # all-zero tensors there trained to "test acc 1.000" with no word of warning.
    root = empty_cache if where == "cache" else tmp_path / "root"
    _cache_with_the_data(raw_files, root)
    processed = root / "FashionMNIST" / "processed"
    processed.mkdir()
    for name, count in (("training.pt", 60_000), ("test.pt", 10_000)):
        torch.save((torch.zeros(count, 28, 28, dtype=torch.uint8),
                    torch.zeros(count, dtype=torch.int64)), processed / name)
    for train in (True, False):
        images, labels = data.load_fashion_mnist(train, root if where == "root" else None)
        assert images.float().mean() > 50 and set(labels.tolist()) == set(range(10))
    book_train, book_test = load_data_fashion_mnist_book(
        10_000, root=root if where == "root" else None, num_workers=0)
    assert set(book_train.dataset.targets.tolist()) == set(range(10))
    assert book_test.dataset.data.float().mean() > 50


def test_a_link_planted_in_a_shared_cache_is_not_written_through(raw_files, empty_cache,
                                                                  tmp_path, monkeypatch):
    # Every name the old code could pick (NAME.<pid>.part) links to a file of someone else's.
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    raw = data._raw_dir(empty_cache)
    raw.mkdir(parents=True)
    import os
    for name in FILES:
        (raw / f"{name}.{os.getpid()}.part").symlink_to(victim)
    monkeypatch.setenv("D2LRESNET_DATA", str(_folder_of_four(raw_files, tmp_path / "four",
                                                             compress=True)))
    assert find_fashion_mnist(download=False) == empty_cache
    assert victim.read_text() == "keep me"
    assert data._check_raw(raw)
    assert not list(raw.glob(".*.part"))  # no temporary file of ours left


def test_a_download_is_verified_into_the_cache_through_a_folder_of_its_own(
        raw_files, empty_cache, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "no-debian")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    raw = data._raw_dir(empty_cache)
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte.gz").symlink_to(victim)  # where torchvision would write
    roots = []

    def download(root, download=False, **kwargs):  # torchvision's download, offline
        roots.append(root)
        fetched = data._raw_dir(root)
        fetched.mkdir(parents=True)
        for name in FILES:
            shutil.copy(raw_files / name, fetched / name)

    monkeypatch.setattr(data.torchvision.datasets, "FashionMNIST", download)
    assert find_fashion_mnist() == empty_cache
    assert victim.read_text() == "keep me" and data._check_raw(raw)
    assert roots and roots[0] != str(empty_cache) and not list(empty_cache.glob(".download*"))


def test_images_and_labels_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="10 images, 9 labels"):
        data.FashionMNISTBatches(torch.zeros(10, 28, 28, dtype=torch.uint8),
                                 torch.zeros(9, dtype=torch.int64), 4)
