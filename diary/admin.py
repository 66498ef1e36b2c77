"""Admin is for operators fixing accounts; diary content is shown read-only.

Its writes take the same path as the API's: a deleted row goes through DiaryRow.delete
(the diary is marked changed), a profile change through ProfileSerializer.update
(digest schedule, the diary marked changed; past nights keep the zone they were lived in).
"""

from django.contrib import admin
from django.db import transaction

from .models import CheckIn, Episode, MedicationCourse, Profile
from .serializers import ProfileSerializer


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for row in queryset:  # one by one: a queryset's delete() would skip DiaryRow.delete
            row.delete()


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "timezone", "digest_enabled")
    search_fields = ("user__email",)

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        ProfileSerializer().update(Profile.objects.get(pk=obj.pk), changed)


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
