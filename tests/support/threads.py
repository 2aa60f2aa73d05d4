"""Jobs run on several threads at once, each thread with its own database connection."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def run_jobs(
    jobs: list[Callable[[], Any]], workers: int, *, timeout: float = 600
) -> list[BaseException]:
    """Run `jobs` on `workers` threads, which start together (a barrier) and take the next job
    until none is left; each closes its connection at the end. Returns the errors raised."""
    queue = list(jobs)
    lock = threading.Lock()
    errors: list[BaseException] = []
    barrier = threading.Barrier(workers)

    def work() -> None:
        try:
            barrier.wait(timeout=60)
            while True:
                with lock:
                    if not queue:
                        return
                    job = queue.pop()
                try:
                    job()
                except BaseException as error:
                    errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return errors
