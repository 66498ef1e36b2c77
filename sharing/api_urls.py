"""API routes under /api/v1/: the patient's shares and the clinician's read-only views."""

from django.urls import path

from . import api

urlpatterns = [
    path("shares/", api.ShareListView.as_view(), name="shares"),
    path("shares/invitations/", api.InvitationView.as_view(), name="share-invitations"),
    path("shares/codes/", api.CodeView.as_view(), name="share-codes"),
    path("shares/access-log/", api.AccessLogView.as_view(), name="share-access-log"),
    path("shares/<uuid:share_id>/", api.ShareDetailView.as_view(), name="share-detail"),
    path("shares/<uuid:share_id>/revoke/", api.RevokeView.as_view(), name="share-revoke"),
    path("clinician/redeem/", api.RedeemView.as_view(), name="clinician-api-redeem"),
    path("clinician/patients/", api.SharedPatientsView.as_view(), name="clinician-api-patients"),
    path("clinician/patients/<str:share_id>/", api.SharedPatientView.as_view(), name="clinician-api-patient"),
    path(
        "clinician/patients/<str:share_id>/episodes/", api.SharedEpisodesView.as_view(), name="clinician-api-episodes"
    ),
    path(
        "clinician/patients/<str:share_id>/checkins/", api.SharedCheckInsView.as_view(), name="clinician-api-checkins"
    ),
    path(
        "clinician/patients/<str:share_id>/medications/",
        api.SharedMedicationsView.as_view(),
        name="clinician-api-medications",
    ),
    path(
        "clinician/patients/<str:share_id>/findings/", api.SharedFindingsView.as_view(), name="clinician-api-findings"
    ),
]
