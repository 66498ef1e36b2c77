"""Pages: the patient's /sharing/ and the clinician's /clinician/."""

from django.urls import path

from . import clinician_views, practice_views, views

urlpatterns = [
    path("sharing/", views.shares, name="sharing"),
    path("sharing/report.pdf", views.own_report_pdf, name="sharing-own-report-pdf"),
    path("sharing/invite/", views.invite, name="sharing-invite"),
    path("sharing/code/", views.new_code, name="sharing-code"),
    path("sharing/<uuid:share_id>/revoke/", views.revoke, name="sharing-revoke"),
    path("sharing/accept/<str:token>/", views.accept, name="sharing-accept"),
    path("clinician/", clinician_views.dashboard, name="clinician-dashboard"),
    path("clinician/redeem/", clinician_views.redeem, name="clinician-redeem"),
    # <str>, not <uuid>: a malformed id must reach the access check and get its plain 404.
    path("clinician/patients/<str:share_id>/", clinician_views.patient, name="clinician-patient"),
    path("clinician/patients/<str:share_id>/report/", clinician_views.report_page, name="clinician-report"),
    path("clinician/patients/<str:share_id>/report.pdf", clinician_views.report_pdf, name="clinician-report-pdf"),
    path("clinician/patients/<str:share_id>/export.zip", clinician_views.export_csv, name="clinician-export-csv"),
    path("clinician/patients/<str:share_id>/fhir.json", clinician_views.export_fhir, name="clinician-export-fhir"),
    path("clinician/practices/", practice_views.practice_list, name="clinician-practices"),
    path("clinician/practices/<uuid:practice_id>/", practice_views.practice, name="clinician-practice"),
    path(
        "clinician/practices/<uuid:practice_id>/members/",
        practice_views.add_member,
        name="clinician-practice-add-member",
    ),
    path(
        "clinician/practices/<uuid:practice_id>/members/<int:member_id>/remove/",
        practice_views.remove_member,
        name="clinician-practice-remove-member",
    ),
    path(
        "clinician/practices/<uuid:practice_id>/members/<int:member_id>/admin/",
        practice_views.make_admin,
        name="clinician-practice-make-admin",
    ),
    path("fhir/CodeSystem/cramptrack", clinician_views.fhir_code_system, name="fhir-code-system"),
]
