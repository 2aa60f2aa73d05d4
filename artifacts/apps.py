from django.apps import AppConfig


class ArtifactsConfig(AppConfig):
    name = "artifacts"
    verbose_name = "Artifacts"

    def ready(self) -> None:
        from artifacts.selectors import artifacts_usage
        from sessions_app.signals import storage_usage

        storage_usage.connect(artifacts_usage, dispatch_uid="artifacts_usage")
