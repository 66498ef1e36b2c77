"""The diary REST API under /api/v1/: every queryset starts from request.user."""

from datetime import date

from django.http import Http404, HttpResponse
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import AccountErasureMixin
from cramptrack.parsers import StrictJSONParser

from . import choices, exporter, importer, other_apps
from .models import CheckIn, DoseChange, Episode, MedicationCourse
from .recording import SYNC_MAX_RECORDS, Conflict, create_once, sync_records, upsert_checkin
from .serializers import (
    CheckInSerializer,
    EpisodeSerializer,
    MedicationCourseSerializer,
    ProfileSerializer,
    StandaloneDoseChangeSerializer,
)


def conflict_response(conflict: Conflict, serializer_class) -> Response:
    return Response(
        {
            "detail": "A record with this id already exists with different content.",
            "differs": conflict.fields,
            "stored": serializer_class(conflict.stored).data,
        },
        status=status.HTTP_409_CONFLICT,
    )


class DateRangeFilter(filters.FilterSet):
    """`since` and `until` are inclusive local dates (the night for episodes)."""

    since = filters.DateFilter(method="filter_since")
    until = filters.DateFilter(method="filter_until")
    date_field = "date"

    def filter_since(self, queryset, name, value):
        return queryset.filter(**{f"{self.date_field}__gte": value})

    def filter_until(self, queryset, name, value):
        return queryset.filter(**{f"{self.date_field}__lte": value})

    def is_valid(self):
        valid = super().is_valid()
        # django-filter skips an empty value; the schema says a date or a choice, so "?until=" is an error.
        for name in self.filters:
            if name in self.data and not self.data[name]:
                self.form.add_error(name, "Give a value or leave the parameter out.")
                valid = False
        since, until = self.form.cleaned_data.get("since"), self.form.cleaned_data.get("until")
        if valid and since and until and since > until:
            self.form.add_error("until", "`until` is before `since`.")
            return False
        return valid


class EpisodeFilter(DateRangeFilter):
    date_field = "night"

    class Meta:
        model = Episode
        fields = ["muscle", "side"]


class CheckInFilter(DateRangeFilter):
    class Meta:
        model = CheckIn
        fields: list[str] = []


class MedicationFilter(DateRangeFilter):
    date_field = "started_on"

    class Meta:
        model = MedicationCourse
        fields = ["drug_class"]


class IdempotentCreateMixin(GenericAPIView):
    """POST with a known uuid returns the stored row (200) or 409 if the body differs."""

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            instance, created = self.create_once(serializer)
        except Conflict as conflict:
            return conflict_response(conflict, type(serializer))
        body = serializer.to_representation(instance)  # the stored row, whether just created or found
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def create_once(self, serializer):
        return create_once(serializer, self.get_queryset(), **self.save_kwargs())

    def save_kwargs(self) -> dict:
        return {"user": self.request.user}


class EpisodeViewSet(IdempotentCreateMixin, viewsets.ModelViewSet):
    """Cramp episodes. `id` is the client's uuid; list filters: since, until (nights), muscle, side."""

    queryset = Episode.objects.none()  # the model, for the schema; get_queryset scopes every request

    serializer_class = EpisodeSerializer
    filterset_class = EpisodeFilter
    lookup_field = "uuid"
    lookup_url_kwarg = "id"

    def get_queryset(self):
        return Episode.objects.filter(user=self.request.user)


class MedicationViewSet(IdempotentCreateMixin, viewsets.ModelViewSet):
    """Courses of medicines, supplements and therapies."""

    queryset = MedicationCourse.objects.none()  # the model, for the schema; get_queryset scopes every request

    serializer_class = MedicationCourseSerializer
    filterset_class = MedicationFilter
    lookup_field = "uuid"
    lookup_url_kwarg = "id"

    def get_queryset(self):
        return MedicationCourse.objects.filter(user=self.request.user).prefetch_related("dose_changes")


class DoseChangeViewSet(IdempotentCreateMixin, viewsets.ModelViewSet):
    """Dose changes; `medication` must be one of your own courses."""

    queryset = DoseChange.objects.none()  # the model, for the schema; get_queryset scopes every request

    serializer_class = StandaloneDoseChangeSerializer
    lookup_field = "uuid"
    lookup_url_kwarg = "id"

    def get_queryset(self):
        return DoseChange.objects.filter(course__user=self.request.user).select_related("course")

    def save_kwargs(self) -> dict:
        return {"lookup_first": True}


@extend_schema(parameters=[OpenApiParameter("date", str, OpenApiParameter.PATH, description="YYYY-MM-DD")])
class CheckInViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Check-ins, one per local date. POST, PUT and PATCH all upsert by date."""

    queryset = CheckIn.objects.none()  # the model, for the schema; get_queryset scopes every request

    serializer_class = CheckInSerializer
    filterset_class = CheckInFilter
    lookup_field = "date"
    lookup_value_regex = r"\d{4}-\d{2}-\d{2}"

    def get_queryset(self):
        return CheckIn.objects.filter(user=self.request.user)

    def get_object(self):
        try:
            date.fromisoformat(self.kwargs["date"])
        except ValueError:
            raise Http404 from None  # 2026-02-30 matches the URL pattern but is no date
        return super().get_object()

    def create(self, request, *args, **kwargs):
        return self._upsert(request.data, partial=True)

    def update(self, request, *args, **kwargs):
        return self._upsert({**request.data, "date": kwargs["date"]}, partial=False)

    def partial_update(self, request, *args, **kwargs):
        return self._upsert({**request.data, "date": kwargs["date"]}, partial=True)

    def _upsert(self, data, partial):
        if not isinstance(data, dict):
            raise ValidationError({"non_field_errors": ["Expected a JSON object."]})
        try:
            row, created = upsert_checkin(self.request.user, data, partial=partial, strict=True)
        except Conflict as conflict:
            return conflict_response(conflict, CheckInSerializer)
        return Response(CheckInSerializer(row).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class MeView(AccountErasureMixin, APIView):
    """Your profile. DELETE erases your account and your whole diary (send your password)."""

    serializer_class = ProfileSerializer

    def get(self, request):
        return Response(ProfileSerializer(request.user.profile).data)

    def patch(self, request):
        serializer = ProfileSerializer(
            request.user.profile, data=request.data, partial=True, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)

    def put(self, request):
        serializer = ProfileSerializer(request.user.profile, data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)


class SyncResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    type = serializers.CharField()
    id = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=["created", "unchanged", "updated", "conflict", "invalid"])
    # The metaclass moves declared fields out of the class, so this never shadows Serializer.errors;
    # the stubs can't know that.
    errors = serializers.DictField()  # type: ignore[assignment]


class SyncView(APIView):
    """Bulk offline sync: up to 500 records, each applied or refused on its own."""

    @extend_schema(
        # Any list item is taken: a malformed record is answered "invalid" on its own, the rest still apply.
        request=inline_serializer(
            "SyncRequest",
            {
                "records": serializers.ListField(
                    child=serializers.JSONField(),
                    max_length=SYNC_MAX_RECORDS,
                    help_text='Each {"type": "episode" or "checkin", "data": {...the API\'s fields...}}.',
                )
            },
        ),
        responses=inline_serializer("SyncResponse", {"results": SyncResultSerializer(many=True)}),
    )
    def post(self, request):
        records = request.data.get("records") if isinstance(request.data, dict) else None
        if not isinstance(records, list):
            raise ValidationError({"records": ["Send a list of records."]})
        if len(records) > SYNC_MAX_RECORDS:
            raise ValidationError({"records": [f"At most {SYNC_MAX_RECORDS} records per request; got {len(records)}."]})
        results = sync_records(request.user, records)
        body = [{"index": r.index, "type": r.type, "id": r.id, "status": r.status, "errors": r.errors} for r in results]
        return Response({"results": body})


class ExportView(APIView):
    """Your whole diary as one JSON document."""

    @extend_schema(responses={(200, "application/json"): None})
    def get(self, request):
        return attachment(exporter.json_bytes(request.user), "application/json", "json")


class CsvExportView(APIView):
    """Your whole diary as a zip of CSV files (the columns the importer reads)."""

    @extend_schema(responses={(200, "application/zip"): None})
    def get(self, request):
        return attachment(exporter.csv_zip(request.user), "application/zip", "zip")


def attachment(content: bytes, content_type: str, extension: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="cramptrack-{date.today().isoformat()}.{extension}"'
    return response


class ImportOptions(serializers.Serializer):
    dry_run = serializers.BooleanField(
        default=False, help_text="check and count everything, then roll back: a preview that saves nothing"
    )
    muscle = serializers.ChoiceField(
        choices=choices.Muscle.choices, default="other", help_text="for another app's rows, which name no muscle"
    )
    side = serializers.ChoiceField(
        choices=choices.Side.choices, default="both", help_text="for another app's rows, which name no side"
    )


class ImportView(APIView):
    """Upload CSV files (or a zip of them, or a JSON export, or a Cluster Headache Tracker export):
    all saved, or nothing and every bad line listed. `dry_run` previews the same answer and saves nothing."""

    parser_classes = [MultiPartParser, FormParser, StrictJSONParser]

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "ImportUpload",
                {"files": serializers.ListField(child=serializers.FileField()), **ImportOptions().get_fields()},
            )
        },
        responses=inline_serializer(
            "ImportResult",
            {
                "created": serializers.DictField(),
                "unchanged": serializers.DictField(),
                "apps": serializers.DictField(help_text="rows read from another app's export, by app"),
                "dry_run": serializers.BooleanField(),
            },
        ),
    )
    def post(self, request):
        uploads = request.FILES.getlist("files") or request.FILES.getlist("file")
        if not uploads:
            raise ValidationError({"files": ["Attach one or more files in the `files` field."]})
        options = ImportOptions(data={k: v for k, v in request.data.items() if k in ImportOptions().fields})
        options.is_valid(raise_exception=True)
        leg = other_apps.Leg(options.validated_data["muscle"], options.validated_data["side"])
        try:
            sources = importer.sources_from_uploads(((upload.name, upload.read()) for upload in uploads), leg=leg)
            report = importer.import_sources(request.user, sources, dry_run=options.validated_data["dry_run"])
        except importer.ImportFailed as failure:
            status = 413 if isinstance(failure, importer.TooLarge) else 400
            return Response({"detail": "Nothing was imported.", "errors": failure.messages}, status=status)
        return Response(
            {"created": report.created, "unchanged": report.unchanged, "apps": report.apps, "dry_run": report.dry_run}
        )
