from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from insights.api import AcknowledgeRedFlagView, ActiveRedFlagsView, InsightsView
from notifications import reminder_views as reminder_link_views
from notifications import views as email_link_views

from . import health, schema, views  # noqa: F401 (schema registers the token scheme)

# The split view serves Swagger UI's start-up code as a separate script, so
# script-src stays 'self'; only its stylesheet's inline <style> needs a relaxation.
api_docs = csp_update({"style-src": [SELF, UNSAFE_INLINE]})(SpectacularSwaggerSplitView.as_view(url_name="schema"))

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    # The phone app (page shells; their modules talk to /api/v1/).
    path("", views.home, name="home"),
    path("diary/", views.diary, name="diary"),
    path("checkin/", views.checkin, name="checkin"),
    path("episode/", views.episode, name="episode"),
    path("insights/", views.insights, name="insights-page"),
    path("settings/", views.settings_page, name="settings"),
    path("welcome/", views.welcome, name="welcome"),
    path("sw.js", views.service_worker, name="service-worker"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("accounts.api_urls")),
    path("api/v1/", include("diary.urls")),
    path("api/v1/", include("notifications.api_urls")),
    path("api/v1/insights/", InsightsView.as_view(), name="insights"),
    path("api/v1/insights/red-flags/", ActiveRedFlagsView.as_view(), name="insights-red-flags"),
    path(
        "api/v1/insights/red-flags/<str:flag>/acknowledge/",
        AcknowledgeRedFlagView.as_view(),
        name="insights-acknowledge-red-flag",
    ),
    # Sharing with clinicians: the patient's /sharing/ and /api/v1/shares/, the clinician's /clinician/.
    path("", include("sharing.urls")),
    path("api/v1/", include("sharing.api_urls")),
    path("email/unsubscribe/<str:token>/", email_link_views.unsubscribe, name="email-unsubscribe"),
    path("email/preferences/<str:token>/", email_link_views.preferences, name="email-preferences"),
    path("email/red-flag/<str:token>/", email_link_views.red_flag_seen, name="email-red-flag-seen"),
    path("email/no-cramps/<str:token>/", reminder_link_views.no_cramps, name="email-no-cramps"),
    path("email/reminder-off/<str:token>/", reminder_link_views.stop_email, name="email-reminder-off"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/docs/", api_docs, name="api-docs"),
]

handler404 = "cramptrack.errors.not_found"
handler500 = "cramptrack.errors.server_error"
# allauth looks its 429 handler up here.
handler429 = "cramptrack.ratelimit.handler429"
