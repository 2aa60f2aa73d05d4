from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    verbose_name = "Tenancy, sessions and events"

    def ready(self) -> None:
        from sessions_app import schema  # noqa: F401  (registers the schema extension)
