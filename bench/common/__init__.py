"""What the benchmarks share: paths and logging here; starting Depot and other processes
(process), scratch PostgreSQL databases (databases), percentiles (stats), the result table and
files (report), the Django-side subprocess (worker) and multipart bodies (multipart)."""

from __future__ import annotations

import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "results"
VENV_BIN = REPO / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)
