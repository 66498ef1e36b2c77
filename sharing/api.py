"""Sharing in the API.

/api/v1/shares/...            the patient's grants: list, invite, make a code, revoke; the access log.
/api/v1/clinician/...         the clinician's read-only views of shared diaries, and code redemption.

Clinician endpoints take session authentication only: an API token is issued
for a password alone, while reading a shared diary needs the second factor
recorded in the session (sharing.mfa).
"""

import uuid

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import MethodNotAllowed, PermissionDenied, Throttled, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from diary.api import CheckInFilter, EpisodeFilter, MedicationFilter
from diary.models import CheckIn, Episode, MedicationCourse
from insights.models import Finding

from . import access, emails, grants, limits, practices
from .codes import display_code
from .dashboard import profile_facts, summaries
from .mfa import IsClinicianWithMfa
from .models import SCOPES, AccessLog, Grant
from .serializers import (
    AccessLogSerializer,
    CodeRequestSerializer,
    CreatedCodeSerializer,
    InvitationRequestSerializer,
    RedeemCodeSerializer,
    SharedCheckInSerializer,
    SharedEpisodeSerializer,
    SharedFindingSerializer,
    SharedMedicationSerializer,
    SharedPatientDetailSerializer,
    SharedPatientSerializer,
    ShareSerializer,
)
from .shared_findings import findings_for
from .views import email_verified, shares_with_counts

What = AccessLog.What

# --- The patient's side ----------------------------------------------------------------------------


class PatientOnly:
    def check_patient(self, request) -> None:
        if request.user.is_clinician:
            raise PermissionDenied("Only patients share a diary.")


class ShareListView(generics.ListAPIView):
    """Everyone you share your diary with, or invited to: status pending, active, expired or revoked."""

    queryset = Grant.objects.none()  # the model, for the schema; get_queryset scopes every request

    serializer_class = ShareSerializer

    def get_queryset(self):
        return shares_with_counts(self.request.user)


class ShareDetailView(generics.RetrieveAPIView):
    """One of your shares."""

    queryset = Grant.objects.none()  # the model, for the schema; get_queryset scopes every request

    serializer_class = ShareSerializer
    lookup_field = "uuid"
    lookup_url_kwarg = "share_id"

    def get_queryset(self):
        return shares_with_counts(self.request.user)


class InvitationView(PatientOnly, APIView):
    """Invite a clinician by email. The link goes to that address only and works for 7 days."""

    @extend_schema(
        request=InvitationRequestSerializer,
        responses={
            201: ShareSerializer,
            403: OpenApiResponse(description="your own address is not confirmed yet, or you are a clinician"),
            429: OpenApiResponse(description="too many invitations today"),
        },
    )
    def post(self, request):
        self.check_patient(request)
        serializer = InvitationRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        if not email_verified(request.user):
            raise PermissionDenied("Confirm your own email address before inviting anyone.")
        if wait := limits.invitation_wait(request.user):
            raise Throttled(wait=wait, detail="Too many invitations today; try again tomorrow.")
        data = dict(serializer.validated_data)
        email, expires_at = data.pop("email"), data.pop("expires_at")
        grant, token = grants.create_invitation(request.user, email, data, expires_at)
        emails.send_invitation(grant, token)
        return Response(ShareSerializer(grant).data, status=status.HTTP_201_CREATED)


class CodeView(PatientOnly, APIView):
    """Make a one-time share code (8 characters, valid 24 hours). The code is in this response only."""

    @extend_schema(
        request=CodeRequestSerializer,
        responses={201: CreatedCodeSerializer, 429: OpenApiResponse(description="too many codes today")},
    )
    def post(self, request):
        self.check_patient(request)
        serializer = CodeRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        if wait := limits.new_code_wait(request.user):
            raise Throttled(wait=wait, detail="Too many codes today; try again tomorrow.")
        data = dict(serializer.validated_data)
        expires_at = data.pop("expires_at")
        grant, code = grants.create_code(request.user, data, expires_at)
        grant.code = display_code(code)
        return Response(CreatedCodeSerializer(grant).data, status=status.HTTP_201_CREATED)


class RevokeView(APIView):
    """Stop sharing at once: the clinician's next request is refused."""

    @extend_schema(request=None, responses=ShareSerializer)
    def post(self, request, share_id):
        grant = get_object_or_404(Grant, patient=request.user, uuid=share_id)
        grants.revoke(grant)
        return Response(ShareSerializer(shares_with_counts(request.user).get(pk=grant.pk)).data)


class AccessLogView(generics.ListAPIView):
    """Every time a clinician read your diary: who, what and when, newest first. Filter: `share`."""

    queryset = AccessLog.objects.none()  # the model, for the schema; get_queryset scopes every request

    serializer_class = AccessLogSerializer

    @extend_schema(parameters=[OpenApiParameter("share", str, description="a share id")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        rows = AccessLog.objects.filter(patient=self.request.user).select_related("grant__practice")
        share = self.request.query_params.get("share")
        if share:
            try:
                rows = rows.filter(grant__uuid=uuid.UUID(share))
            except ValueError:
                raise ValidationError({"share": ["Not a share id."]}) from None
        return rows


# --- The clinician's side -------------------------------------------------------------------------

SHARE_ID = OpenApiParameter("share_id", str, OpenApiParameter.PATH, description="the share's id (a UUID)")


class ClinicianView(APIView):
    """Session + TOTP, read-only, and the grant check before anything else is looked at."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsClinicianWithMfa]
    read_methods = ("GET", "HEAD", "OPTIONS")
    scope: str | None = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in self.read_methods:
            raise MethodNotAllowed(request.method)
        if "share_id" in kwargs:
            self.grant = access.grant_or_404(request.user, kwargs["share_id"], self.scope)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


class SharedPatientsView(ClinicianView, APIView):
    """Patients sharing with you, most in need of attention first (urgent red flags, worsening)."""

    @extend_schema(responses=SharedPatientSerializer(many=True))
    def get(self, request):
        grants_ = access.active_grants(request.user)
        rows = [summary.as_dict() for summary in summaries(grants_)]
        access.record_views(grants_, request.user, What.API_PATIENTS)
        return Response(SharedPatientSerializer(rows, many=True).data)


@extend_schema(parameters=[SHARE_ID])
class SharedPatientView(ClinicianView, APIView):
    """One shared patient: what they share, their recent counts and their profile."""

    @extend_schema(responses=SharedPatientDetailSerializer)
    def get(self, request, share_id):
        row = summaries([self.grant])[0].as_dict()
        row["profile"] = profile_facts(self.grant)
        access.record_view(self.grant, request.user, What.API_PATIENT)
        return Response(SharedPatientDetailSerializer(row).data)


@extend_schema(parameters=[SHARE_ID])
class SharedListView(ClinicianView, generics.ListAPIView):
    what: str = ""

    def get_serializer_context(self):
        context = super().get_serializer_context()
        grant = getattr(self, "grant", None)
        context["grant"] = grant
        if grant is not None:
            context["user"] = grant.patient
        return context

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        access.record_view(self.grant, request.user, self.what, detail=request.GET.urlencode())
        return response


class SharedEpisodesView(SharedListView):
    """The patient's cramp episodes (filters: since, until, muscle, side). Notes only if shared."""

    queryset = Episode.objects.none()  # the model, for the schema; get_queryset scopes every request

    scope = "episodes_checkins"
    what = What.API_EPISODES
    serializer_class = SharedEpisodeSerializer
    filterset_class = EpisodeFilter

    def get_queryset(self):
        return Episode.objects.filter(user_id=self.grant.patient_id)


class SharedCheckInsView(SharedListView):
    """The patient's morning check-ins (filters: since, until). Notes only if shared."""

    queryset = CheckIn.objects.none()  # the model, for the schema; get_queryset scopes every request

    scope = "episodes_checkins"
    what = What.API_CHECKINS
    serializer_class = SharedCheckInSerializer
    filterset_class = CheckInFilter

    def get_queryset(self):
        return CheckIn.objects.filter(user_id=self.grant.patient_id)


class SharedMedicationsView(SharedListView):
    """The patient's medication, supplement and therapy courses. Notes only if shared."""

    queryset = MedicationCourse.objects.none()  # the model, for the schema; get_queryset scopes every request

    scope = "medications"
    what = What.API_MEDICATIONS
    serializer_class = SharedMedicationSerializer
    filterset_class = MedicationFilter

    def get_queryset(self):
        return MedicationCourse.objects.filter(user_id=self.grant.patient_id).prefetch_related("dose_changes")


class SharedFindingsView(SharedListView):
    """The analysis' findings, most urgent first, with counts and plausible ranges."""

    queryset = Finding.objects.none()  # the model, for the schema; get_queryset scopes every request

    scope = "insights"
    what = What.API_FINDINGS
    serializer_class = SharedFindingSerializer
    pagination_class = None

    def get_queryset(self):
        return findings_for(self.grant)


class RedeemView(APIView):
    """Accept a patient's share code. Tries are limited per account and per address."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsClinicianWithMfa]

    @extend_schema(
        request=RedeemCodeSerializer,
        responses={
            201: SharedPatientSerializer,
            400: OpenApiResponse(description="not a valid code"),
            429: OpenApiResponse(description="too many tries"),
        },
    )
    def post(self, request):
        serializer = RedeemCodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if wait := limits.code_attempt_wait(request):
            raise Throttled(wait=wait, detail="Too many tries; wait an hour or ask for an email invitation.")
        practice_id = serializer.validated_data.get("practice")
        practice = practices.practice_of(request.user, practice_id) if practice_id else None
        if practice_id and practice is None:
            raise ValidationError({"practice": ["You are not a member of that practice."]})
        try:
            grant = grants.redeem_code(serializer.validated_data["code"], request.user, practice)
        except grants.OfferError as error:
            raise ValidationError({"code": [str(error)]}) from None
        # The answer holds no diary data, so nothing is logged until the first read.
        row = {
            "id": grant.uuid,
            "email": grant.patient.email,
            "practice": grant.practice_name,
            "scope": {name: getattr(grant, name) for name in SCOPES},
            "expires_at": grant.expires_at,
            "timezone": grant.patient.profile.timezone,
            "last_30_nights": None,
            "previous_30_nights": None,
            "red_flags": None,
            "worsening": None,
        }
        return Response(SharedPatientSerializer(row).data, status=status.HTTP_201_CREATED)
