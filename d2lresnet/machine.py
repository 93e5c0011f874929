"""The machine in front of the student: what it is, how fast it runs, how long a cell will take.

``time_steps`` and ``announce`` let a notebook say "about 14 minutes on this machine" before
a long cell starts instead of after (train.estimate_training, twins.estimate_twins,
insertion.estimate_insertion use them). The rest describes
the machine for saved runs (``describe_machine``), picks bf16 where the CPU has it
(``choose_precision``) and tells whether a run had the CPU to itself (``others_share``).
"""
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from . import i18n


def time_steps(step, n=3, clock=time.perf_counter):
    """Seconds per call of step(): one call to warm up (first calls pay for allocation and
    kernel choice), then the median of n timed calls."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a whole number at least 1, got {n!r}")
    step()
    times = []
    for _ in range(n):
        started = clock()
        step()
        times.append(clock() - started)
    return statistics.median(times)


def format_duration(seconds):
    """'under a minute', 'about 14 minutes', 'about 2.5 hours', in the notebook's language."""
    minutes = seconds / 60
    if minutes < 1:
        return i18n.tr("duration_under_minute")
    if minutes < 90:
        return i18n.tr("duration_minutes", minutes=round(minutes))
    return i18n.tr("duration_hours", hours=f"{minutes / 60:.1f}")


def announce(seconds):
    """Print how long the next cell will take here; return the seconds."""
    print(i18n.tr("estimate", duration=format_duration(seconds)))
    return seconds


def cpu_has_bf16():
    """Whether the CPU has bf16 instructions (AVX512-BF16, AMX or Arm BF16); without them
    bf16 is emulated and slower than fp32."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return False
    return bool(flags & {"avx512_bf16", "amx_bf16", "bf16"})


def describe_machine(device=None):
    """One line: the GPU's name on CUDA, else cores, CPU model, torch and the SIMD it uses
    (bf16 needs AVX-512 BF16 or AMX)."""
    version = torch.__version__.split("+")[0]
    if device is not None and torch.device(device).type == "cuda":
        return f"{torch.cuda.get_device_name(torch.device(device))}, torch {version}"
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cores} cores, {model}, torch {version} ({torch.backends.cpu.get_cpu_capability()})"


def cpu_seconds():
    """(CPU seconds the whole machine has spent busy, of which this process and its children),
    read from /proc/stat; None where there is no /proc (not Linux)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    busy = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    return busy, sum(os.times()[:4])


def others_share(before, after, seconds, cores=None):
    """The share of the machine's CPU that other processes used between two cpu_seconds()
    readings `seconds` apart: 0 alone, 0.5 when something else kept half the cores busy.
    None if either reading is None. Steal (a virtual machine's neighbours) counts as others."""
    if before is None or after is None or seconds <= 0:
        return None
    cores = cores or os.cpu_count() or 1
    others = (after[0] - before[0]) - (after[1] - before[1])
    return round(min(max(others / (seconds * cores), 0.0), 1.0), 3)


def choose_precision(device, precision="auto"):
    if precision not in ("auto", "bf16", "fp32"):
        raise ValueError(f"precision must be 'auto', 'bf16' or 'fp32', got {precision!r}")
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if device.type == "cpu":
        return "bf16" if cpu_has_bf16() else "fp32"
    return "fp32"


