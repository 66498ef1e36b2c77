from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from diary import exporter

        from . import checks  # noqa: F401 (registers them)
        from .serializers import exported_reminders, exported_sent, restore_reminders

        exporter.add_section("reminders", exported_reminders, restore_reminders)
        exporter.add_section("notifications_sent", exported_sent)
