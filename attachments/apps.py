from django.apps import AppConfig


class AttachmentsConfig(AppConfig):
    name = "attachments"
    verbose_name = "Attachments and blobs"

    def ready(self) -> None:
        from attachments.selectors import attachments_usage
        from attachments.services import connect_session_receivers
        from sessions_app.signals import storage_usage

        connect_session_receivers()
        storage_usage.connect(attachments_usage, dispatch_uid="attachments_usage")
