"""The machine a run is on: its CPU's name, whether it has native bf16, and the line that names it.

Every result records ``machine()``: a run spans machines that round differently (AMD EPYC with
AVX2 only, Intel Xeon with AVX512-BF16 and AMX, a GPU), and a figure is only comparable with
figures from the same kind of machine.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

import torch


def cpu_model() -> str:
    """The CPU's ``model name`` from /proc/cpuinfo, or what ``platform`` knows where there is none."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """One line naming the CPU, its cores, torch and Python (and the GPU, where one is used)."""
    return f"{cpu_model()}, {os.cpu_count()} cores, torch {torch.__version__}, Python {platform.python_version()}"


def cpu_has_native_bf16() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


# 'auto' on a GPU takes bf16 only once it is measured faster there: on an H200 a D step took 11.1 ms
# in bf16 against 7.7 ms in fp32 (issue 24, torch 2.11, eager). bench/gpu_check.sh measures both
# on the captured path; flip this where bf16 wins, on GPUs with native bf16 (capability 8.0 on).
CUDA_BF16_FASTER = False


def use_bf16(precision: str, device: torch.device) -> bool:
    """Whether D runs under bf16 autocast: 'auto' takes the faster of the two where bf16 is native.

    Without native bf16 a CPU emulates it, ~100x slower; on an AMX or AVX512-BF16 CPU bf16 is
    faster (docs/performance.md). On a GPU fp32 measured faster (``CUDA_BF16_FASTER``).
    """
    if precision != "auto":
        return precision == "bf16"
    if device.type == "cuda":  # native bf16 from Ampere (compute capability 8.0) on; is_bf16_supported counts emulation
        return CUDA_BF16_FASTER and torch.cuda.get_device_capability(device) >= (8, 0)
    return cpu_has_native_bf16()


def code_version() -> str:
    """seqgan's version and, in a git checkout, its commit (with '+changes' when the tree differs from it)."""
    try:
        version = importlib.metadata.version("seqgan")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown version"
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "seqgan"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return version  # an installed package, not a checkout
    return f"{version} ({commit}{'+changes' if changed else ''})"


def exact_fp32(device: torch.device) -> None:
    """fp32 means fp32 on ``device``: no TF32 in cuDNN (G's LSTM) or in the matrix products (CUDA).

    The authors' TensorFlow 1 code ran in fp32; PyTorch lets cuDNN use TF32 by default (10-bit
    mantissas on Ampere and later). Process-wide, as torch.backends is.
    """
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
