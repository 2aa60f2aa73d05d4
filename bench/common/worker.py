"""The Django side of a benchmark, in a child process.

`run_worker("bench.search.populate", "populate", params, env, timeout=...)` runs
`python -m bench.common.worker bench.search.populate populate '<params as JSON>'` from the
repository root with `env` (which names the benchmark's database). The child calls
django.setup() before it imports the module, so Django-side modules import the product at
their top; the function's return value comes back as JSON on the child's stdout, after
RESULT_MARK, and the child's stderr is logged as it comes (progress lines).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import threading
from typing import Any

from bench.common import PYTHON, REPO, log

RESULT_MARK = "BENCH-RESULT "


def run_worker(
    module: str, function: str, params: dict[str, Any], env: dict[str, str], *, timeout: float
) -> Any:
    """What `module.function(params)` returns, run in a Django child process."""
    command = [PYTHON, "-m", "bench.common.worker", module, function, json.dumps(params)]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    stderr_lines: list[str] = []
    stdout_parts: list[str] = []

    # One reader per pipe (communicate() would read stderr too, racing the progress reader).
    def pump_stderr() -> None:  # progress lines as they come
        assert process.stderr is not None
        for line in process.stderr:
            stderr_lines.append(line)
            if line.strip():
                log(f"  [{function}] {line.rstrip()[:300]}")

    def pump_stdout() -> None:
        assert process.stdout is not None
        stdout_parts.append(process.stdout.read())

    readers = [threading.Thread(target=pump, daemon=True) for pump in (pump_stderr, pump_stdout)]
    for reader in readers:
        reader.start()
    try:
        process.wait(timeout=timeout)
    except BaseException:
        process.kill()
        process.wait(timeout=10)
        raise
    for reader in readers:
        reader.join(timeout=10)
    stdout = "".join(stdout_parts)
    if process.returncode != 0:
        raise RuntimeError(
            f"worker {function} failed ({process.returncode}):\n{''.join(stderr_lines)[-3000:]}"
        )
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK) :])
    raise RuntimeError(f"worker {function} printed no result:\n{stdout[-2000:]}")


def _main(module: str, function: str, params: str) -> None:
    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    result = getattr(importlib.import_module(module), function)(json.loads(params))
    print(RESULT_MARK + json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    _main(*sys.argv[1:])
