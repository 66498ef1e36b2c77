"""Static files storage: hashed, compressed names, including inside the app's own ES modules."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's storage, also hashing the import specifiers of JavaScript modules.

    Pages load hashed module URLs; without this the modules they import would keep plain
    names, so one deploy could pair a new log.js with an old cached outbox.js. Django's own
    switch does the rewriting (`import ... from "./x.js";` becomes "./x.<hash>.js"); the
    admin's and the API docs' bundles hold no relative imports, so only static/js/ changes.
    """

    support_js_module_import_aggregation = True
