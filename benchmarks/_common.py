"""What both benchmark scripts share: the quiet environment, the machine line, the table printer."""

from __future__ import annotations

import contextlib
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

# Importable as ``benchmarks._common`` from the tests and as ``_common`` from the scripts.
REPO = Path(__file__).resolve().parents[1]


# TensorFlow's default CPU allocator takes each tensor from malloc and gives
# it back when freed; glibc returns big blocks to the kernel, so a new 8M-element
# float32 tensor often costs 8192 page faults (the kernel zeroing 32 MiB) and
# those, not the arithmetic, dominate and scatter the timings (by 2x from one
# call to the next, with the machine's load). TensorFlow's BFC allocator (the
# one it uses on GPUs) keeps freed memory for reuse.
ALLOCATOR_ENV = {"TF_CPU_ALLOCATOR_USE_BFC": "true"}


def use_bfc_allocator(argv: list) -> None:
    """Selects TensorFlow's BFC allocator unless ``--system-allocator``; before importing TF."""
    if "--system-allocator" not in argv:
        os.environ.update(ALLOCATOR_ENV)


def allocator_line() -> str:
    if os.environ.get("TF_CPU_ALLOCATOR_USE_BFC", "").lower() in ("1", "true"):
        return "allocator: TensorFlow's BFC allocator (TF_CPU_ALLOCATOR_USE_BFC=true)"
    return "allocator: TensorFlow's default CPU allocator (malloc; --system-allocator)"


def import_this_checkout() -> None:
    """Puts this checkout first on ``sys.path``: measure the package next to the script."""
    if str(REPO) not in sys.path[:1]:
        sys.path.insert(0, str(REPO))


def quiet_tensorflow() -> None:
    """Silences TensorFlow's C++ logs; call before importing TensorFlow."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def _version(package: str) -> str:
    """The installed version, without importing the package (TensorFlow takes seconds)."""
    for name in (package, f"{package}-cpu"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            return metadata.version(name)
    return "?"


def _accelerator() -> str:
    """The GPU, if ``nvidia-smi`` names one (no framework is imported to ask)."""
    import shutil
    import subprocess

    if shutil.which("nvidia-smi") is None:
        return ""
    done = subprocess.run(
        ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
        capture_output=True,
        text=True,
        check=False,
    )
    names = done.stdout.strip().splitlines()
    return f", GPU {names[0]}" if done.returncode == 0 and names else ""


def machine_line(backend: str = "tensorflow") -> str:
    """CPU model, core count, Python/framework/Keras versions and the load average now."""
    framework = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}[backend]
    return (
        f"machine: {cpu_model()}, {os.cpu_count()} cores{_accelerator()}, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, {framework} "
        f"{_version(backend)}, Keras {_version('keras')}; load average {load_average()}"
    )


def table(header: list, rows: list) -> str:
    """A Markdown table (pipes aligned), so the output pastes into the docs as is."""
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])


def command_line() -> str:
    """How this script was run, relative to the repository root where possible."""
    script = Path(sys.argv[0]).resolve()
    with contextlib.suppress(ValueError):
        script = script.relative_to(REPO)
    return " ".join(["python", str(script)] + sys.argv[1:])
