import os
import socket
import uuid
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from ops.heartbeat import HeartbeatThread


class Command(BaseCommand):
    help = (
        "Run the task worker (django-tasks' db_worker, every queue) with a heartbeat that "
        "/readyz and /metrics read. Use this instead of db_worker."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--worker-id", default="", help="Default: host-pid-random.")
        parser.add_argument("--interval", type=float, default=1.0, help="Queue poll seconds.")

    def handle(self, *args: Any, **options: Any) -> None:
        worker_id = options["worker_id"] or (
            f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        )
        heartbeat = HeartbeatThread(worker_id)
        heartbeat.start()
        try:
            call_command(
                "db_worker",
                queue_name="*",
                interval=options["interval"],
                startup_delay=False,
                reload=False,
                worker_id=worker_id[:64],
            )
        finally:
            heartbeat.stop()
