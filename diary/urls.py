from django.urls import path
from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter()
router.register("episodes", api.EpisodeViewSet, basename="episode")
router.register("checkins", api.CheckInViewSet, basename="checkin")
router.register("medications", api.MedicationViewSet, basename="medication")
router.register("dose-changes", api.DoseChangeViewSet, basename="dose-change")

urlpatterns = [
    path("me/", api.MeView.as_view(), name="me"),
    path("sync/", api.SyncView.as_view(), name="sync"),
    path("export/", api.ExportView.as_view(), name="export"),
    path("export/csv/", api.CsvExportView.as_view(), name="export-csv"),
    path("import/", api.ImportView.as_view(), name="import"),
    *router.urls,
]
