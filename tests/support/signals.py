"""A log of the save signals models send, for tests of who sends them and in what order."""

import contextlib
from collections.abc import Iterator
from typing import Any

from django.db.models.signals import post_save, pre_save


@contextlib.contextmanager
def save_signals(*models: type[Any]) -> Iterator[list[tuple[str, str]]]:
    """Inside, each `pre_save` and `post_save` of `models` is appended to the yielded list as
    (signal, model name); a `post_save` also checks the instance is saved and has its id."""
    log: list[tuple[str, str]] = []

    def before(sender: Any, instance: Any, **kwargs: Any) -> None:
        log.append(("pre_save", sender.__name__))

    def after(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
        assert created and instance.pk is not None and not instance._state.adding
        log.append(("post_save", sender.__name__))

    # weak=False: the receivers are this function's locals.
    for model in models:
        pre_save.connect(before, sender=model, weak=False, dispatch_uid=f"log-pre-{model}")
        post_save.connect(after, sender=model, weak=False, dispatch_uid=f"log-post-{model}")
    try:
        yield log
    finally:
        for model in models:
            pre_save.disconnect(sender=model, dispatch_uid=f"log-pre-{model}")
            post_save.disconnect(sender=model, dispatch_uid=f"log-post-{model}")
