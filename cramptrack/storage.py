"""Static files storage: hashed, compressed names, including inside the app's own ES modules."""

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage

# Django's rewrite rules for `import ... from "./x.js";` and `export ... from "./x.js";`,
# without the dynamic import() rule (the app doesn't use it).
# django-stubs leave this private attribute out.
_MODULE_PATTERNS = ManifestStaticFilesStorage._js_module_import_aggregation_patterns[1][:3]  # type: ignore[attr-defined]


class StaticStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's storage, also hashing the import specifiers in static/js/.

    Pages load hashed module URLs; without this the modules they import would
    keep plain names, so one deploy could pair a new log.js with an old cached
    outbox.js. Only js/*.js is rewritten: third-party bundles (admin, Swagger)
    contain import-like text that must be left alone.
    """

    patterns = (*CompressedManifestStaticFilesStorage.patterns, ("js/*.js", _MODULE_PATTERNS))
