"""Operators see analysis state and every weekly email's delivery status (failed, abandoned...)."""

from django.contrib import admin

from .models import AnalysisState, DigestDelivery


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(admin.ModelAdmin):
    list_display = ("user", "week_start", "status", "attempts", "next_attempt_at", "sent_at", "last_error")
    list_filter = ("status", "week_start")
    search_fields = ("user__email",)
    readonly_fields = [f.name for f in DigestDelivery._meta.fields]


@admin.register(AnalysisState)
class AnalysisStateAdmin(admin.ModelAdmin):
    list_display = ("user", "analysed_at", "version", "planned_at")
