"""Sustained load (issue 14): locust's mixed workload against Depot on the production profile
(PostgreSQL, Redis, S3 on moto), beside open WebSockets and waiting long-polls, interleaved with
the same requests against a bare ASGI app under the same uvicorn.

`python -m bench.load` runs it (`--quick` for CI's 20 s version); bench/README.md's section
"bench/load" and `__main__.py`'s docstring say what is measured.
"""
