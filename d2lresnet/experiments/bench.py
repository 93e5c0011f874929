"""Side-by-side speed: the book's input pipeline and training step against ours, in one run.

Both train the same ResNet-18 at the same batch size and resolution for the same number of
steps after a warm-up; the clock runs over whole steps, data loading included.
"""
import itertools
import statistics
try:
    import resource  # POSIX only: Windows has no getrusage
except ImportError:
    resource = None
import sys
import time

import torch
from torch import nn

from ..data import load_data_fashion_mnist, load_data_fashion_mnist_book
from ..model import resnet18
from ..shapes import count_flops
from ..machine import choose_precision, cpu_has_bf16
from ..train import train_step


def examples_per_sec(loader, steps, warmup, precision, memory_format):
    """Train a fresh ResNet-18 on CPU: `warmup` untimed steps, then `steps` timed ones.

    The timed steps start from a fresh pass over the loader, as every epoch does: a
    DataLoader's workers start and fill their queue inside the timed window, so batches
    prefetched during the warm-up cannot flatter the book's pipeline."""
    net = resnet18().to(memory_format=memory_format)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
    loss_fn = nn.CrossEntropyLoss()

    def step(X, y):  # the trainer's own step
        train_step(net, X.to(memory_format=memory_format), y, loss_fn, optimizer, precision)

    for X, y in itertools.islice(loader, warmup):  # kernels chosen, caches warm
        step(X, y)
    started, seen = time.perf_counter(), 0
    for X, y in itertools.islice(loader, steps):
        step(X, y)
        seen += len(y)
    return seen / (time.perf_counter() - started)


def matmul_peak_gflops(size=2048, repeats=5, dtypes=(torch.float32, torch.bfloat16)):
    """The best of a few square matmuls of each dtype: what the cores can do at best."""
    peaks = {}
    for dtype in dtypes:
        a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
        a @ b  # warm-up
        best = min(_seconds(lambda: a @ b) for _ in range(repeats))
        peaks[str(dtype).removeprefix("torch.")] = 2 * size ** 3 / best / 1e9
    return peaks


def peak_dtypes(precision):
    """fp32, and bf16 only where it is the run's precision or the CPU has bf16 instructions:
    emulated, one bf16 matmul of 2048 takes about a minute and its peak says nothing."""
    return (torch.float32,) + ((torch.bfloat16,) if precision == "bf16" or cpu_has_bf16()
                               else ())


def _seconds(fn):
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def peak_memory_gb():
    """This process's peak resident memory so far (None where the OS does not say, as on Windows)."""
    if resource is None:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1e9 if sys.platform == "darwin" else 1e6)  # bytes on macOS, kB on Linux


def check_bench_memory(sides, batch_size):
    """Refuse, before anything is allocated, a batch whose training step needs more memory
    than the machine has (a batch is at most the 60,000 training images)."""
    from ..data import TRAIN_IMAGES
    from .runs import check_memory, training_bytes
    batch = min(batch_size, TRAIN_IMAGES)
    needed = max(training_bytes(resnet18, side, batch) for side in sides)
    check_memory(f"ResNet-18 at batch {batch}", needed, "use a smaller --batch-size")


def run_bench(resize=96, batch_size=256, steps=10, warmup=2, precision="auto"):
    """Ours first (so the process's peak memory is ours), then the book's pipeline."""
    check_bench_memory([resize], batch_size)
    precision = choose_precision(torch.device("cpu"), precision)
    train_iter, _ = load_data_fashion_mnist(batch_size, resize=resize)
    ours = examples_per_sec(train_iter, steps, warmup, precision, torch.channels_last)
    ours_memory = peak_memory_gb()
    book_iter, _ = load_data_fashion_mnist_book(batch_size, resize=resize, num_workers=4)
    book = examples_per_sec(book_iter, steps, warmup, "fp32", torch.contiguous_format)
    flops = count_flops(resnet18(), (1, 1, resize, resize), backward=True)
    peaks = matmul_peak_gflops(dtypes=peak_dtypes(precision))
    ours_gflops = ours * flops / 1e9
    peak = peaks["bfloat16" if precision == "bf16" else "float32"]
    return {"resize": resize, "batch_size": batch_size, "steps": steps, "warmup": warmup,
            "threads": torch.get_num_threads(),
            "book_examples_per_sec": round(book, 1),
            "ours_examples_per_sec": round(ours, 1), "ours_precision": precision,
            "speedup": round(ours / book, 2),
            "gflop_per_example": round(flops / 1e9, 3),
            "ours_gflops": round(ours_gflops, 1),
            "matmul_peak_gflops": {k: round(v, 1) for k, v in peaks.items()},
            "fraction_of_peak": round(ours_gflops / peak, 2),
            "ours_peak_memory_gb": None if ours_memory is None else round(ours_memory, 2)}


def compiled_against_eager(sides=(28, 48, 96), batch_size=256, steps=5, compile=torch.compile):
    """Our training step eager and under ``compile`` (torch.compile: inductor on the CPU), at
    each side, in one run: the steady examples/sec of each (median step, data in memory), and
    what compiling cost (the first compiled step beyond a steady one). ``payback_steps``: the
    steps a run needs before compiling has paid for itself (None: it never does), against the
    235 steps of a 60,000-image epoch at batch 256."""
    check_bench_memory(sides, batch_size)
    precision = choose_precision(torch.device("cpu"), "auto")
    rows = []
    for side in sides:
        train_iter, _ = load_data_fashion_mnist(batch_size, resize=None if side == 28 else side,
                                                limit=batch_size * (steps + 1))
        batches = [(X.to(memory_format=torch.channels_last), y) for X, y in train_iter]
        row = {"side": side, "batch_size": batch_size, "steps": steps, "precision": precision}
        for name, wrap in (("eager", lambda net: net), ("compiled", compile)):
            torch.manual_seed(0)
            net = resnet18().to(memory_format=torch.channels_last)
            model = wrap(net)
            optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
            loss_fn = nn.CrossEntropyLoss()
            seconds = [_seconds(lambda X=X, y=y: train_step(model, X, y, loss_fn, optimizer,
                                                            precision))
                       for X, y in batches]
            steady = statistics.median(seconds[1:])
            row[f"{name}_examples_per_sec"] = batch_size / steady
            row[f"{name}_first_step_seconds"] = seconds[0]
            row[f"{name}_step_seconds"] = steady
        row["ratio"] = row["compiled_examples_per_sec"] / row["eager_examples_per_sec"]
        row["compile_seconds"] = row["compiled_first_step_seconds"] - row["compiled_step_seconds"]
        saved_per_step = row["eager_step_seconds"] - row["compiled_step_seconds"]
        row["payback_steps"] = (round(row["compile_seconds"] / saved_per_step)
                                if saved_per_step > 0 else None)
        rows.append(row)
    return rows


def format_compiled(rows):
    lines = [f"ResNet-18 training step, batch {rows[0]['batch_size']}, {rows[0]['precision']}, "
             f"{torch.get_num_threads()} threads, {torch.backends.cpu.get_cpu_capability()}: "
             f"eager against torch.compile, median of {rows[0]['steps']} steps after the first"]
    for r in rows:
        payback = ("never" if r["payback_steps"] is None
                   else f"after {r['payback_steps']} steps")
        lines.append(f"  {r['side']:3d}x{r['side']:<3d} eager {r['eager_examples_per_sec']:7.1f}, "
                     f"compiled {r['compiled_examples_per_sec']:7.1f} examples/sec "
                     f"({r['ratio']:.2f}x); compiling took {r['compile_seconds']:.0f} s, "
                     f"paid back {payback}")
    return "\n".join(lines)


def format_bench(r):
    return "\n".join([
        f"ResNet-18 training step, {r['resize']}x{r['resize']}, batch {r['batch_size']}, "
        f"{r['steps']} timed steps after {r['warmup']} warm-up, {r['threads']} threads, "
        f"data loading included (timed from a fresh pass over the data)",
        f"  book pipeline (PIL resize, 4 workers, fp32):  {r['book_examples_per_sec']:8.1f} "
        f"examples/sec",
        f"  ours (in-memory uint8, channels_last, {r['ours_precision']}): "
        f"{r['ours_examples_per_sec']:8.1f} examples/sec",
        f"  speedup: {r['speedup']:.2f}x",
        f"  ours: {r['gflop_per_example']} GFLOP per example -> {r['ours_gflops']} GFLOP/s, "
        f"{r['fraction_of_peak']:.0%} of the matmul peak measured now "
        f"({r['matmul_peak_gflops']})",
        f"  ours peak memory (max RSS): "
        + ("n/a" if r["ours_peak_memory_gb"] is None else f"{r['ours_peak_memory_gb']:.2f} GB")])
