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


def test_compiled_against_eager_times_both_with_whatever_compiles(monkeypatch):
    # The plumbing, with a stand-in compiler that counts its calls (torch.compile itself takes
    # minutes on a CPU; `python -m d2lresnet bench --compile` measures it).
    wrapped = []

    def compile(net):
        wrapped.append(net)
        return net

    [row] = bench.compiled_against_eager(sides=(28,), batch_size=8, steps=2, compile=compile)
    assert len(wrapped) == 1 and isinstance(wrapped[0], torch.nn.Module)
    for name in ("eager", "compiled"):
        assert row[f"{name}_examples_per_sec"] == 8 / row[f"{name}_step_seconds"] > 0
    assert row["ratio"] == row["compiled_examples_per_sec"] / row["eager_examples_per_sec"]
    assert row["compile_seconds"] == (row["compiled_first_step_seconds"]
                                      - row["compiled_step_seconds"])
    saved = row["eager_step_seconds"] - row["compiled_step_seconds"]
    assert row["payback_steps"] == (round(row["compile_seconds"] / saved) if saved > 0 else None)
    assert "28x28" in bench.format_compiled([row])


def test_bench_compile_measures_the_side_asked_for_and_refuses_warmup(monkeypatch, capsys):
    from d2lresnet.cli import main
    asked = []
    monkeypatch.setattr(bench, "compiled_against_eager",
                        lambda sides, batch_size, steps: asked.append(sides) or [])
    assert main(["bench", "--compile", "--json", "--resize", "40", "--steps", "1"]) == 0
    assert main(["bench", "--compile", "--json", "--steps", "1"]) == 0
    assert asked == [(40,), (28, 48, 96)]
    capsys.readouterr()
    assert main(["bench", "--compile", "--warmup", "1"]) == 1 and asked == [(40,), (28, 48, 96)]
    assert "--warmup does not apply to --compile" in capsys.readouterr().err
