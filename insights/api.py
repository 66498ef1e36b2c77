"""GET /api/v1/insights/: the stored findings, with the figures the charts need.
GET /api/v1/insights/red-flags/: the red flags not yet acknowledged, from the diary as it is now.
POST /api/v1/insights/red-flags/<flag>/acknowledge/: "I've seen someone about this"."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from . import summary
from .models import RED_FLAG_CHOICES, AnalysisState, Finding, RedFlagAcknowledgement
from .panel import load_panels
from .red_flags import LABELS, acknowledge, active
from .rules.hard_stops import FLAG_LEVELS


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


class RedFlagAcknowledgementSerializer(serializers.ModelSerializer):
    # A declared field, moved out of the class by the metaclass: it never replaces Field.label, which
    # the stubs can't know.
    label = serializers.CharField(source="get_flag_display", read_only=True)  # type: ignore[assignment]

    class Meta:
        model = RedFlagAcknowledgement
        fields = ["flag", "label", "first_reported_on", "last_reported_on", "acknowledged_at"]


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
                "red_flag_history": RedFlagAcknowledgementSerializer(many=True),
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
                "red_flag_history": RedFlagAcknowledgementSerializer(
                    RedFlagAcknowledgement.objects.filter(user=request.user), many=True
                ).data,
            }
        )


class ActiveRedFlagSerializer(serializers.Serializer):
    flag = serializers.ChoiceField(choices=RED_FLAG_CHOICES)
    label = serializers.CharField()  # type: ignore[assignment]
    level = serializers.CharField(help_text="E0 (call emergency services now), E1 (today) or E2 (within 2 weeks)")
    first_reported_on = serializers.DateField(
        help_text="your local date of the first report since you last said you saw someone"
    )
    last_reported_on = serializers.DateField()
    reports = serializers.IntegerField()


class ActiveRedFlagsView(APIView):
    """Your red flags reported since you last said you had seen someone about them, most urgent first.

    Worked out from the diary as it is now, so a flag shows the moment its cramp is saved, before any analysis.
    """

    @extend_schema(responses=ActiveRedFlagSerializer(many=True))
    def get(self, request):
        flags = [
            {
                "flag": name,
                "label": LABELS[name],
                "level": FLAG_LEVELS[name],
                "first_reported_on": reported.first,
                "last_reported_on": reported.last,
                "reports": reported.times,
            }
            for name, reported in active(request.user.pk).items()
        ]
        flags.sort(key=lambda flag: (flag["level"], -flag["last_reported_on"].toordinal()))
        return Response(ActiveRedFlagSerializer(flags, many=True).data)


class AcknowledgeRedFlagView(APIView):
    """You have seen a clinician about a red flag: it leaves your current findings and stays in your history.

    Idempotent: once acknowledged, the same POST answers with the same acknowledgement until a new
    report raises the flag again. A flag you have never reported is a 404.
    """

    @extend_schema(
        request=None, responses={200: RedFlagAcknowledgementSerializer, 201: RedFlagAcknowledgementSerializer}
    )
    def post(self, request, flag):
        acknowledgement, created = acknowledge(request.user.pk, flag)
        if acknowledgement is None:
            raise NotFound("You have not reported this.")
        data = RedFlagAcknowledgementSerializer(acknowledgement).data
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
