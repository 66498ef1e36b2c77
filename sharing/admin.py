from django.contrib import admin

from .models import AccessLog, Grant, Practice, PracticeMembership


class MembershipInline(admin.TabularInline):
    model = PracticeMembership
    extra = 0
    autocomplete_fields = ("user",)
    readonly_fields = ("added_at",)


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin):
    """Staff can open practices and fix membership (e.g. name a new admin when the last one left).
    Only clinician accounts can be added (PracticeMembership.clean)."""

    list_display = ("name", "uuid", "created_at")
    search_fields = ("name", "memberships__user__email")
    inlines = [MembershipInline]


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = (
        "uuid",
        "patient",
        "clinician_email",
        "practice",
        "invited_email",
        "kind",
        "expires_at",
        "revoked_at",
    )
    search_fields = ("patient__email", "clinician_email", "invited_email", "practice__name")
    # Grants change through the patient's actions only; staff may look, not edit.
    readonly_fields = [f.name for f in Grant._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Append-only: viewable, never added, changed or deleted here."""

    list_display = ("at", "clinician_email", "patient", "what", "detail")
    list_filter = ("what",)
    search_fields = ("clinician_email", "patient__email")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
