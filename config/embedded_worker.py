"""The embedded default's task worker process: `python -m config.embedded_worker PARENT_PID`.

Started by the server (config/lifespan.py), never by hand. It asks Linux to send it SIGTERM
when the server process dies, then runs django-tasks' `db_worker`, which finishes the task in
hand on SIGTERM and exits (through `depot_worker`, which adds the heartbeat)."""

import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:  # the server died before prctl took effect
        sys.exit(0)


def main() -> None:
    die_with_parent(int(sys.argv[1]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    # depot_worker: db_worker with the heartbeat /readyz reads (ops/heartbeat.py).
    call_command("depot_worker", interval=0.5, worker_id=f"embedded-{sys.argv[1]}")


if __name__ == "__main__":
    main()
