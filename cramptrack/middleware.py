"""Request middleware shared by every app."""

from django.conf import settings
from django.http import JsonResponse
from django.utils.cache import patch_cache_control


class BodySizeLimitMiddleware:
    """Refuse oversized bodies before anything reads them (DRF's parsers read
    the raw stream, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not cover JSON)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.API_MAX_BODY_BYTES
        if request.path.startswith("/api/v1/import"):
            limit = settings.IMPORT_MAX_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Content-Length is not a number."}, status=400)
        if length > limit:
            return JsonResponse(
                {"detail": f"Request body is {length} bytes; the limit here is {limit} bytes."}, status=413
            )
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    """Permissions-Policy on every response (Django's SecurityMiddleware has no setting for it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class TokenHeaderMiddleware:
    """An Authorization header that is not UTF-8 is a 401, as any wrong token is.

    knox.auth.TokenAuthentication decodes the token as UTF-8 unchecked, so such a header
    would be a 500. No valid credential of this app (a knox token is hex) has such bytes.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        try:
            header.encode("iso-8859-1").decode("utf-8")  # WSGI hands headers over as ISO-8859-1 text
        except UnicodeError:
            response = JsonResponse({"detail": "Invalid token."}, status=401)
            response["WWW-Authenticate"] = "Token"
            return response
        return self.get_response(request)


class PrivateResponseMiddleware:
    """Health data is never kept by a browser's or a proxy's HTTP cache.

    Every API response, and every page for a signed-in person, is `no-store` unless the view
    chose its own caching (the service worker script). The app's offline copy lives in the
    service worker's cache and IndexedDB, which the person's sign-out clears.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        private = request.path.startswith("/api/") or getattr(request, "user", None) and request.user.is_authenticated
        if private and not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True, private=True)
        return response
