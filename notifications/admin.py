"""Operators see every weekly email's kind and delivery status (failed, bounced...)."""

from django.contrib import admin

from .models import DigestDelivery


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(admin.ModelAdmin):
    list_display = ("user", "week_start", "kind", "status", "attempts", "next_attempt_at", "sent_at", "last_error")
    list_filter = ("status", "kind", "week_start")
    search_fields = ("user__email",)
    readonly_fields = [f.name for f in DigestDelivery._meta.fields]
