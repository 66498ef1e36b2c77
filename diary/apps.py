from django.apps import AppConfig


class DiaryConfig(AppConfig):
    name = "diary"
    verbose_name = "Diary"

    def ready(self):
        from . import signals  # noqa: F401
