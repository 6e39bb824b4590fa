import pytest


@pytest.fixture(autouse=True)
def _calibration_cache(tmp_path_factory, monkeypatch):
    """Dry runs keep their calibrations in a folder of each test's own, never in the user's cache."""
    monkeypatch.setenv("NALM_CACHE_DIR", str(tmp_path_factory.mktemp("nalm-cache")))
    monkeypatch.delenv("NALM_RECALIBRATE", raising=False)
