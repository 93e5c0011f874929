import pytest


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """A fresh, empty data cache and no D2LRESNET_DATA, so each test picks its own source."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("D2LRESNET_CACHE", str(cache))
    monkeypatch.delenv("D2LRESNET_DATA", raising=False)
    return cache
