"""bench measures the bf16 matmul peak only where bf16 is real (emulated it takes minutes)."""
import torch

from d2lresnet.experiments import bench


def test_bf16_peak_only_where_the_cpu_has_it_or_the_run_uses_it(monkeypatch):
    monkeypatch.setattr(bench, "cpu_has_bf16", lambda: False)
    assert bench.peak_dtypes("fp32") == (torch.float32,)
    assert bench.peak_dtypes("bf16") == (torch.float32, torch.bfloat16)
    monkeypatch.setattr(bench, "cpu_has_bf16", lambda: True)
    assert bench.peak_dtypes("fp32") == (torch.float32, torch.bfloat16)


def test_peaks_are_reported_per_dtype_measured():
    peaks = bench.matmul_peak_gflops(size=64, repeats=1, dtypes=(torch.float32,))
    assert list(peaks) == ["float32"] and peaks["float32"] > 0
