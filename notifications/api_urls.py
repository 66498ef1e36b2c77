from django.urls import path

from . import api

urlpatterns = [
    path("reminders/", api.RemindersView.as_view(), name="reminders"),
    path("reminders/devices/", api.DevicesView.as_view(), name="reminder-devices"),
    path("reminders/devices/<int:pk>/", api.DeviceView.as_view(), name="reminder-device"),
    path("reminders/test/", api.TestPushView.as_view(), name="reminder-test"),
]
