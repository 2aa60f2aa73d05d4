from django.apps import AppConfig


class TusConfig(AppConfig):
    """The tus 1.0.0 resumable-upload server (README, "Resumable uploads (tus)")."""

    name = "artifacts.tus"
    label = "tus"
    verbose_name = "Resumable uploads (tus)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from artifacts.tus.models import tus_usage
        from sessions_app.signals import storage_usage

        storage_usage.connect(tus_usage, dispatch_uid="tus_usage")
