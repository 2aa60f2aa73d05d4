"""Percentiles and latency summaries. Percentiles are nearest-rank: p99 of 1,000 samples is
the 990th smallest."""

from __future__ import annotations

import math
import statistics
from typing import Any


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(0, math.ceil(p / 100 * len(sorted_values)) - 1)
    return sorted_values[rank]


def latency_summary(seconds: list[float]) -> dict[str, Any]:
    """n, p50, p99, mean and max in milliseconds (two decimals) of durations in seconds."""
    values = sorted(seconds)
    if not values:
        return {"n": 0, "p50_ms": None, "p99_ms": None, "mean_ms": None, "max_ms": None}
    return {
        "n": len(values),
        "p50_ms": round(1000 * statistics.median(values), 2),
        "p99_ms": round(1000 * (percentile(values, 99) or 0), 2),
        "mean_ms": round(1000 * statistics.fmean(values), 2),
        "max_ms": round(1000 * values[-1], 2),
    }


def p50_p99(summary: dict[str, Any]) -> str:
    """'p50 / p99' of a latency_summary, in ms with one decimal ('-' when there is none)."""
    return " / ".join(
        "-" if summary.get(key) is None else f"{summary[key]:.1f}" for key in ("p50_ms", "p99_ms")
    )


def summary_ms(seconds: list[float]) -> dict[str, Any]:
    """The finer summary of the event benchmark: min, p50, p90, p99, p99.9, max and mean in ms
    (three decimals), and how many were negative (a push that beat the HTTP response)."""
    ms = sorted(value * 1000 for value in seconds)
    if not ms:
        return {"n": 0}
    points = {"p50": 50, "p90": 90, "p99": 99, "p999": 99.9}
    return {
        "n": len(ms),
        "min": round(ms[0], 3),
        **{name: round(percentile(ms, p) or 0.0, 3) for name, p in points.items()},
        "max": round(ms[-1], 3),
        "mean": round(statistics.fmean(ms), 3),
        "negative": sum(1 for value in ms if value < 0),
    }


def raw_ms(seconds: list[float]) -> list[float]:
    return [round(value * 1000, 3) for value in seconds]
