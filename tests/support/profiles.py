"""Which profile a run is on, and whether its services answer."""

import os
import socket
from urllib.parse import urlsplit

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False
