"""The reminders API under /api/v1/reminders/: the person's settings, their push devices and a test push.
Every query starts from request.user; another person's device is a 404."""

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cramptrack.ratelimit import Limit, hit, too_many

from . import reminders
from .models import PushSubscription
from .serializers import ReminderSettingsSerializer, SubscribeSerializer

TEST_PUSHES = Limit("push-test", 5, 3600)


class RemindersView(APIView):
    """Your morning check-in reminder: when, quiet hours, a second nudge, the email fallback, your devices."""

    serializer_class = ReminderSettingsSerializer

    def get(self, request):
        return Response(ReminderSettingsSerializer(reminders.settings_for(request.user)).data)

    def patch(self, request):
        instance = reminders.settings_for(request.user)
        serializer = ReminderSettingsSerializer(instance, data=request.data, partial=True, context={"request": request})
        serializer.is_valid(raise_exception=True)
        reminders.save_settings(serializer.save, instance)
        return Response(ReminderSettingsSerializer(instance).data)


class DevicesView(APIView):
    """Turn reminders on for this device: its PushSubscription.toJSON(); the same endpoint again updates it."""

    @extend_schema(
        request=SubscribeSerializer,
        responses={
            201: inline_serializer("Device", {"id": serializers.IntegerField(), "label": serializers.CharField()}),
            200: OpenApiResponse(description="the same endpoint again: updated"),
        },
    )
    def post(self, request):
        serializer = SubscribeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            device, created = PushSubscription.objects.select_for_update().get_or_create(
                endpoint=data["endpoint"],
                defaults={
                    "user": request.user,
                    "p256dh": data["keys"]["p256dh"],
                    "auth": data["keys"]["auth"],
                    "label": data["label"],
                    "expires_at": serializer.expires_at(),
                },
            )
            if not created:
                # The device subscribed again (new keys) or another account signed in on it: it is now this one's.
                mine = device.user_id == request.user.pk
                device.user, device.p256dh, device.auth = request.user, data["keys"]["p256dh"], data["keys"]["auth"]
                device.label = data["label"] or (device.label if mine else "")
                device.expires_at = serializer.expires_at()
                device.save()
                created = not mine
        body = {"id": device.pk, "label": device.label, "created_at": device.created_at}
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class DeviceView(APIView):
    """Turn reminders off for one device."""

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        get_object_or_404(PushSubscription, pk=pk, user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class TestPushView(APIView):
    """Send a test notification to every device of yours now."""

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "TestPush", {"sent": serializers.IntegerField(), "removed": serializers.IntegerField()}
            ),
            429: OpenApiResponse(description="too many tests this hour"),
        },
    )
    def post(self, request):
        if retry_after := hit(TEST_PUSHES, f"u{request.user.pk}"):
            return too_many(request, retry_after, "Too many test notifications; please try again later.")
        outcome = reminders.send_test(request.user)
        return Response({"sent": outcome.delivered, "removed": len(outcome.gone)})
