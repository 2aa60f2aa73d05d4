"""Depot's benchmarks, one package each: `.venv/bin/python -m bench.files` (and bench.artifacts,
bench.events, bench.search) from the repository root. See bench/README.md."""
