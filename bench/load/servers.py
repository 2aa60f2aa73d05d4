"""The server's memory, sampled once a second from /proc. (The two servers of the run are
bench.common's UvicornServer: Depot and the bare baseline from one command line, differing
only in the application.)"""

from __future__ import annotations

import threading
import time

from bench.common.process import status_kib


class RssSampler:
    """VmRSS of one process every `interval` s, with time.monotonic() stamps (the clock the
    locust and socket processes stamp their blocks with)."""

    def __init__(self, pid: int, interval: float = 1.0) -> None:
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int]] = []  # (monotonic, KiB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            rss = status_kib(self.pid, "VmRSS")
            if rss is None:
                return
            self.samples.append((time.monotonic(), rss))
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
