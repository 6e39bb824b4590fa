"""``nalm run --device cuda``: skipped where PyTorch has no CUDA device."""
import pytest
import torch

from nalm.results import ResultsStore

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_a_run_on_cuda_is_stored_with_its_device(run_nalm, tmp_path):
    store = tmp_path / "cuda.sqlite"
    code, out, err = run_nalm(["run", "blog-static", "--units", "nac", "nalu", "--targets", "add", "--seeds", "2",
                               "--iterations", "50", "--device", "cuda", "--results", store, "--quiet"])
    assert code == 0, err
    with ResultsStore(store) as results:
        runs = results.runs("blog-static")
    assert len(runs) == 4
    assert {r.environment["device"] for r in runs} == {"cuda"}
    assert all(r.environment["cuda_device"] for r in runs)
