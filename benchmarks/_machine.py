"""The machine a benchmark ran on, in one line, and its load: light to import (no pandas), for
the scripts that do not need `_common`."""

from __future__ import annotations

import os
from pathlib import Path
import platform

import optuna


def machine() -> str:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import optuna_rl

    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"optuna {optuna.__version__}, optuna-rl {optuna_rl.__version__}, {platform.platform()}"
    )


def load() -> str:
    try:
        return ", ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "unknown"
