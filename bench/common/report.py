"""Figures and result files: a Figure per table row (info() or check() builds one), the table,
the results JSON with the git state and the code fingerprint, and the end of a run."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import REPO, RESULTS, log

# Python and settings files outside bench/ and tests/: what a run's figures depend on.
CODE_PATHSPEC = ["*.py", "*.toml", ".env", ":(exclude)bench/**", ":(exclude)tests/**"]


@dataclass
class Figure:
    """One row of the table: `ok` None is information, True/False a PASS/FAIL against
    `target`; `baseline` is the same-run baseline (text) and `ratio` the figure over it."""

    figure: str
    value: Any
    unit: str = ""
    baseline: str | None = None
    target: str | None = None
    ok: bool | None = None
    ratio: float | None = None
    digits: int = 1

    @property
    def result(self) -> str:
        return verdict(self.ok)

    def as_dict(self) -> dict[str, Any]:
        """The row as the results JSON has always held it (unset optional fields left out)."""
        optional = {
            "digits": None if self.digits == 1 else self.digits,
            "baseline_text": self.baseline,
            "ratio": self.ratio,
            "target": self.target,
        }
        row = {"figure": self.figure, "value": self.value, "unit": self.unit}
        return row | {k: v for k, v in optional.items() if v is not None} | {"result": self.result}


def info(figure: str, value: Any, unit: str = "", **fields: Any) -> Figure:
    """A figure for information (baseline, target text, ratio, digits as keywords)."""
    return Figure(figure, value, unit, **fields)


def check(figure: str, value: Any, unit: str, ok: bool, **fields: Any) -> Figure:
    """A figure that passes when `ok`."""
    return Figure(figure, value, unit, ok=bool(ok), **fields)


def log_check(name: str, errors: int) -> Figure:
    """The row for tracebacks and ERROR lines in a server's output."""
    return check(f"{name}: tracebacks/errors", errors, "", errors == 0, target="0")


def verdict(ok: bool | None) -> str:
    return "info" if ok is None else ("PASS" if ok else "FAIL")


def passed(rows: list[Figure]) -> bool:
    return all(row.ok is not False for row in rows)


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def render_table(rows: list[Figure]) -> str:
    headers = ["figure", "value", "unit", "baseline", "ratio", "target", "result"]
    table = [
        [
            *(row.figure, fmt(row.value, row.digits), row.unit, row.baseline or "-"),
            *(fmt(row.ratio, 2), row.target or "-", row.result),
        ]
        for row in rows
    ]
    widths = [max(len(str(line[i])) for line in [headers, *table]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            str(cell).ljust(widths[i]) if i in (0, 2, 3, 5) else str(cell).rjust(widths[i])
            for i, cell in enumerate(cells)
        )

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *map(line, table)])


def _git(*args: str, timeout: float = 20) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def git_info() -> dict[str, Any]:
    dirty = [line for line in _git("status", "--porcelain").splitlines() if line]
    return {"commit": _git("rev-parse", "HEAD").strip(), "dirty_files": len(dirty)}


def code_fingerprint() -> str:
    """The code's state (Python and settings files outside bench/ and tests/, as committed plus
    uncommitted changes): other people work in this tree, and a run whose code changed under
    it measures a mix."""
    state = "\n".join(
        [
            _git("ls-files", "-s", "--", *CODE_PATHSPEC, timeout=60),  # blob hashes as committed
            _git("diff", "HEAD", "--", *CODE_PATHSPEC, timeout=60),
            _git("ls-files", "--others", "--exclude-standard", "--", *CODE_PATHSPEC, timeout=60),
        ]
    )
    return hashlib.sha256(state.encode()).hexdigest()


def new_results(
    name: str,
    work: Path,
    *,
    machine: dict[str, Any] | None = None,
    fingerprint: bool = False,
    **fields: Any,
) -> dict[str, Any]:
    """The head of a run's results: start time, command line, `fields`, machine, git state,
    (with `fingerprint`) the code fingerprint at the start, and the work folder."""
    results: dict[str, Any] = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "-m", f"bench.{name}", *sys.argv[1:]]),
        **fields,
        "machine": {
            "cpus": os.cpu_count(),
            "kernel": platform.release(),
            "python": platform.python_version(),
            **(machine or {}),
        },
        "git": git_info(),
    }
    if fingerprint:
        results["code_fingerprint_start"] = code_fingerprint()
    return results | {"work_dir": str(work)}


def fail(results: dict[str, Any], error: BaseException, work: Path) -> None:
    """Records a run's error and prints the tail of every server log in `work`."""
    results["error"] = repr(error)
    log(f"ERROR: {error!r}")
    for path in sorted(work.glob("uvicorn*.log")):
        print(f"--- {path.name} (tail) ---\n" + path.read_text(errors="replace")[-3000:])


def finish_run(
    results: dict[str, Any],
    rows: list[Figure],
    *,
    name: str,
    title: str,
    suffix: str,
    latest: bool,
    work: Path,
    keep: bool,
    latest_filter: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> None:
    """Ends a run: the rows and the verdict into `results` (when the run went through), the
    table under `title` (with the start time and commit), the results as
    results/NAME-STAMP[SUFFIX].json and, when `latest` and the run went through,
    results/latest-NAME.json (through `latest_filter` if given); the work folder is removed
    unless `keep`."""
    went_through = bool(rows) and "error" not in results
    if went_through:
        results["rows"] = [row.as_dict() for row in rows]
        results["passed"] = passed(rows)
    results["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if rows:
        dirty = results["git"]["dirty_files"]
        noted = f" (+{dirty} dirty files)" if dirty else ""
        print(f"\n{title}, {results['started_at']}, commit {results['git']['commit'][:12]}{noted}")
        print(render_table(rows))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}{suffix}.json"
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    if latest and went_through:
        kept = latest_filter(results) if latest_filter else results
        (RESULTS / f"latest-{name}.json").write_text(json.dumps(kept, indent=2, default=str) + "\n")
    print(f"results: {out}")
    if keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
