"""Fixtures shared by several test files. d2lresnet and torch are imported inside them, so
that collecting a test which needs neither stays cheap."""
import pytest


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """A fresh, empty data cache and no D2LRESNET_DATA, so each test picks its own source."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("D2LRESNET_CACHE", str(cache))
    monkeypatch.delenv("D2LRESNET_DATA", raising=False)
    return cache


@pytest.fixture
def fake_data():
    """fake_data(count, seed=0): Fashion-MNIST-shaped (uint8 images 28x28, labels 0..9), random,
    for the trainer's path without the dataset."""
    import torch

    def make(count, seed=0):
        g = torch.Generator().manual_seed(seed)
        return (torch.randint(0, 256, (count, 28, 28), dtype=torch.uint8, generator=g),
                torch.randint(0, 10, (count,), generator=g))
    return make


@pytest.fixture(params=["en", "zh"])  # i18n.LANGUAGES, without importing d2lresnet here
def language(request):
    """Each language in turn, set for the test; English again afterwards."""
    from d2lresnet import i18n

    i18n.set_language(request.param)
    yield request.param
    i18n.set_language("en")


@pytest.fixture
def drawn_language(language):
    """A language for text drawn in figures: zh needs a CJK font (CI installs one)."""
    from d2lresnet import i18n

    if language == "zh" and i18n.find_cjk_font() is None:
        pytest.skip("no CJK font here (sudo apt-get install fonts-noto-cjk); CI installs one")
    return language


@pytest.fixture
def shown(monkeypatch):
    """What the notebook widgets display(), in order (the figures they draw)."""
    from d2lresnet import widgets

    figures = []
    monkeypatch.setattr(widgets, "display", figures.append)
    return figures
