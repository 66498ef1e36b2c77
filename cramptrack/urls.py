from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from knox import views as knox_views

from insights import views as insights_views
from insights.api import InsightsView

from . import health, views

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("", views.home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("diary.urls")),
    path("api/v1/insights/", InsightsView.as_view(), name="insights"),
    path("api/v1/auth/logout/", knox_views.LogoutView.as_view(), name="token-logout"),
    path("email/unsubscribe/<str:token>/", insights_views.unsubscribe, name="email-unsubscribe"),
    path("email/preferences/<str:token>/", insights_views.preferences, name="email-preferences"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

handler500 = "cramptrack.errors.server_error"
