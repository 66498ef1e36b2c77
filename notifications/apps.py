from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from django.db.models.signals import post_save

        from diary import exporter
        from diary.models import Profile

        from . import checks  # noqa: F401 (registers them)
        from .reminders import follow_zone
        from .serializers import exported_reminders, exported_sent, restore_reminders

        exporter.add_section("reminders", exported_reminders, restore_reminders)
        exporter.add_section("notifications_sent", exported_sent)
        post_save.connect(follow_zone, sender=Profile, dispatch_uid="notifications.reminders.follow_zone")
