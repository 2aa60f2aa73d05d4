from django.apps import AppConfig


class OpsConfig(AppConfig):
    """What operators watch: the task worker's heartbeat and the Prometheus metrics that are
    counted from the domain (uploads). Nothing in the product apps imports this one."""

    name = "ops"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ops import metrics

        metrics.connect_receivers()
