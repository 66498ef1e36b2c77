"""GET /api/v1/insights/: the stored findings, with the figures the charts need."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from . import summary
from .models import AnalysisState, Finding
from .panel import load_panels


class FindingSerializer(serializers.ModelSerializer):
    interval = serializers.SerializerMethodField(help_text="the rate ratio's plausible range (low, high)")

    class Meta:
        model = Finding
        fields = [
            "rule",
            "trigger",
            "key",
            "status",
            "escalation",
            "rate_ratio",
            "interval",
            "counts",
            "nights_needed",
            "message",
            "tip",
            "source",
            "firm",
            "first_detected_at",
            "analysed_at",
        ]

    def get_interval(self, finding) -> list[float | None] | None:
        if finding.ci_low is None and finding.ci_high is None:
            return None
        return [finding.ci_low, finding.ci_high]


class InsightsView(APIView):
    """Your findings, most urgent first, plus weekly counts and cramps by hour."""

    @extend_schema(
        responses=inline_serializer(
            "Insights",
            {
                "analysed_at": serializers.DateTimeField(allow_null=True),
                "findings": FindingSerializer(many=True),
                "weekly": serializers.ListField(child=serializers.DictField()),
                "by_hour": serializers.ListField(child=serializers.IntegerField()),
                "completeness": serializers.DictField(),
            },
        )
    )
    def get(self, request):
        state = AnalysisState.objects.filter(user=request.user).first()
        findings = Finding.objects.filter(user=request.user).order_by("rank")
        panel = load_panels([request.user.pk])[0]
        return Response(
            {
                "analysed_at": state.analysed_at if state else None,
                "findings": FindingSerializer(findings, many=True).data,
                "weekly": summary.weekly(panel),
                "by_hour": summary.by_hour(panel),
                "completeness": summary.completeness(panel),
            }
        )
