from django.apps import AppConfig


class AttachmentsConfig(AppConfig):
    name = "attachments"
    verbose_name = "Attachments and blobs"

    def ready(self) -> None:
        from attachments.services import register_session_hooks

        register_session_hooks()
