"""Structured logs (structlog): every line, Depot's, Django's and uvicorn's, is one JSON object
with `timestamp` (UTC, ISO 8601), `level`, `logger` and `event`, plus the request's
`request_id`, `principal` and `route` when it comes from a request (bound by
config/observability.py). DEPOT_LOG_FORMAT=console prints the same fields for a human."""

import logging
from typing import Any

import structlog


def _drop_noise(logger: Any, name: str, event: dict[str, Any]) -> dict[str, Any]:
    event.pop("color_message", None)  # uvicorn's terminal copy of the message
    return event


SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
    structlog.stdlib.ExtraAdder(),
    _drop_noise,
]


def logging_config(level: str, fmt: str) -> dict[str, Any]:
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=False)
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    # No renderer here prints a record's thread, process or process name, and stdlib looks
    # each up for every record (the optimisation the logging docs give for this case).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    structlog.configure(
        processors=[*SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = {"class": "logging.StreamHandler", "formatter": "structured"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": SHARED,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    renderer,
                ],
            }
        },
        "handlers": {"console": handler},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            # uvicorn's own lines in the same shape (uvicorn set up its handlers before ours).
            "uvicorn": {"handlers": ["console"], "level": level, "propagate": False},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            # Depot writes its own access line (config/observability.py), with the request id,
            # route and principal; uvicorn's would be a second one per request. uvicorn writes
            # its line only when this logger has a handler, and `--no-access-log` removes them
            # only before this configuration runs, so none is given here.
            "uvicorn.access": {"handlers": [], "level": level, "propagate": False},
        },
    }


ACCESS = logging.getLogger("depot.access")


def access(event: str, **fields: Any) -> None:
    """One access-log line (`request`, `websocket`), as `structlog.get_logger("depot.access")
    .info(event, **fields)` writes it: the same processors over the same event, one record for
    the same handlers and formatter, so JSON and console output and propagation are unchanged.

    It skips structlog's bound-logger call and stdlib's caller lookup (a walk up the stack for a
    file name and line no renderer prints): with them the line cost 34 µs of the 50 µs Depot
    spent around a `/healthz` in process; this way it costs about 12 (issue 11)."""
    if not ACCESS.isEnabledFor(logging.INFO):
        return
    event_dict: dict[str, Any] = {**fields, "event": event}
    for processor in SHARED:
        event_dict = processor(ACCESS, "info", event_dict)
    record = ACCESS.makeRecord(
        ACCESS.name,
        logging.INFO,
        "",
        0,
        event_dict,
        (),
        None,
        # What structlog's wrap_for_formatter attaches: ProcessorFormatter then takes the
        # record's message as the finished event dict.
        extra={"_logger": ACCESS, "_name": "info"},
    )
    ACCESS.handle(record)
