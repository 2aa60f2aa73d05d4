from django.apps import AppConfig


class AttachmentsConfig(AppConfig):
    name = "attachments"
    verbose_name = "Attachments and blobs"

    def ready(self) -> None:
        from attachments.services import connect_session_receivers

        connect_session_receivers()
