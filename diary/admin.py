"""Admin is for operators fixing accounts; diary content is shown read-only."""

from django.contrib import admin

from .models import CheckIn, Episode, MedicationCourse, Profile


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "timezone", "digest_enabled")
    search_fields = ("user__email",)


@admin.register(Episode)
class EpisodeAdmin(ReadOnlyAdmin):
    list_display = ("user", "started_at", "muscle", "side", "severity")
    list_filter = ("muscle", "side")


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyAdmin):
    list_display = ("user", "date", "no_cramps")


@admin.register(MedicationCourse)
class MedicationCourseAdmin(ReadOnlyAdmin):
    list_display = ("user", "name", "drug_class", "started_on", "stopped_on")
