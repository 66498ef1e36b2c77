"""Operators see when each diary was last analysed and queued."""

from django.contrib import admin

from .models import AnalysisState


@admin.register(AnalysisState)
class AnalysisStateAdmin(admin.ModelAdmin):
    list_display = ("user", "analysed_at", "version", "planned_at")
