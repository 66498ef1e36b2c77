"""CrampTrack settings: one module, driven by environment variables.

Every value has a default that runs on a laptop with no servers (SQLite under
var/, a filesystem Celery broker, emails written to var/mail/). Setting
DATABASE_URL and REDIS_URL switches to PostgreSQL and Redis with no code change.
A .env file beside manage.py is read if present (`make run` writes one).
"""

from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django_guid.integrations import CeleryIntegration

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    # Real environment variables win over the file.
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
SITE_URL = env.str("SITE_URL", default="http://localhost:8000").rstrip("/")
SITE_NAME = env.str("SITE_NAME", default="CrampTrack")
# An https:// SITE_URL is a deployment: secure cookies, HSTS, SSL redirect and a strong key.
HTTPS = SITE_URL.startswith("https://")

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. `make run` writes one to .env; in production set it in the environment "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    SECRET_KEY = "insecure-debug-only-key"  # noqa: S105 (DEBUG only)
elif HTTPS and not DEBUG and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or "insecure" in SECRET_KEY):
    # The same bar as Django's security.W009. Short test keys stay usable on http:// (tests, `make run`).
    raise ImproperlyConfigured(
        "SECRET_KEY is too weak for a deployment: use at least 50 random characters "
        "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
    "django_guid",
    "accounts",
    "diary",
    "insights",
    "notifications",
    "sharing",
]

MIDDLEWARE = [
    # First, so every log line of the request (and of the tasks it queues) carries its id.
    "django_guid.middleware.guid_middleware",
    "django.middleware.security.SecurityMiddleware",
    "cramptrack.middleware.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "cramptrack.middleware.BodySizeLimitMiddleware",
    "cramptrack.middleware.TokenHeaderMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "cramptrack.middleware.PrivateResponseMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "cramptrack.urls"
WSGI_APPLICATION = "cramptrack.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Data stores -------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'cramptrack.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE avoids
    # "database is locked" upgrades from read to write transactions.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # A file cache is shared by the web, worker and beat processes (locmem is not).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Celery ------------------------------------------------------------------

if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
else:
    # Kombu's filesystem transport: a broker that needs no server, for one machine.
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes every database connection before and after each task unless this is
# set; a task then keeps its connection like a request does (CONN_MAX_AGE, CONN_HEALTH_CHECKS), through
# the handlers in cramptrack/celery.py. The fixup still closes them every DB_REUSE_MAX tasks.
CELERY_DB_REUSE_MAX = 1000
# Worker processes (prefork) when `celery worker` is not given --concurrency. 2 fill 2 cores with an
# SMTP server on the same host; with a relay across a network a weekly-email task mostly waits on
# round trips, and more processes send more. One DB connection each.
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=2)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "plan-analysis": {"task": "insights.plan_analysis", "schedule": env.int("ANALYSIS_TICK_SECONDS", default=15 * 60)},
    "plan-digests": {"task": "notifications.plan_digests", "schedule": env.int("DIGEST_TICK_SECONDS", default=5 * 60)},
    "plan-reminders": {
        "task": "notifications.plan_reminders",
        "schedule": env.int("REMINDER_TICK_SECONDS", default=60),
    },
    "heartbeat": {"task": "cramptrack.heartbeat", "schedule": 60},
    "purge-access-log": {"task": "sharing.purge_access_log", "schedule": 24 * 3600},
}
CELERY_TIMEZONE = "UTC"

# --- Accounts ----------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# Optional: a patient can log a cramp straight after signing up; digests and
# share invitations go only to verified addresses.
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
# Its one change: too many failed logins is a 429 (with Retry-After), not a form error.
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# allauth's limits, kept in the cache (Redis with REDIS_URL) and answered with a 429 by
# cramptrack.ratelimit.handler429. "ip" is the client address (TRUSTED_PROXY_COUNT), "key"
# the email address. POST /api/v1/auth/token/ counts against "login" and "login_failed" too.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
}
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https") else "http"
LOGIN_REDIRECT_URL = "/"
# After sign-up: detect the time zone and explain the morning check-in.
ACCOUNT_SIGNUP_REDIRECT_URL = "/welcome/"
LOGIN_URL = "account_login"
# TOTP two-factor (allauth.mfa): required for clinicians before they see any shared diary
# (sharing.mfa), offered to patients on the account pages.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME
# A code typed in the last seconds of its 30-second step often arrives in the next one:
# accept one step either side, as RFC 6238 section 5.2 recommends for transmission delay.
MFA_TOTP_TOLERANCE = 1

# API tokens (knox) expire after API_TOKEN_TTL_DAYS without use: each authenticated request
# moves the expiry forward again (AUTO_REFRESH), so a client in daily use stays signed in
# and a lost or forgotten token stops working on its own.
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_TTL_DAYS", default=30)),
    "AUTO_REFRESH": True,
}

# --- API -----------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "cramptrack.pagination.DiaryPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CrampTrack API",
    "DESCRIPTION": "A leg-cramp diary: episodes, nightly check-ins, medications, sync, export and import.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status": name each set of choices once.
    "ENUM_NAME_OVERRIDES": {"FindingStatusEnum": "insights.models.Finding.Status"},
    # The schema generates without a warning, and `check --deploy` keeps it that way.
    "ENABLE_DJANGO_DEPLOY_CHECK": True,
}

# Request bodies: JSON API calls are small; imports may carry a year of diary.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1_000_000)
IMPORT_MAX_BODY_BYTES = env.int("IMPORT_MAX_BODY_BYTES", default=10_000_000)
# What an uploaded zip may unpack to, in all (a small zip can inflate a thousandfold).
IMPORT_MAX_UNPACKED_BYTES = env.int("IMPORT_MAX_UNPACKED_BYTES", default=20_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BODY_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BODY_BYTES
# How far ahead of the server clock a phone's clock may be.
CLOCK_SKEW_MINUTES = env.int("CLOCK_SKEW_MINUTES", default=5)

# --- Email ---------------------------------------------------------------------

if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CrampTrack <cramptrack@localhost>")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=15)
# The weekly emails' Message-IDs name the site's own host, so they are unique to this deployment.
EMAIL_MESSAGE_ID_DOMAIN = env.str("EMAIL_MESSAGE_ID_DOMAIN", default=urlsplit(SITE_URL).hostname or "localhost")


def _local_only(domain: str) -> bool:
    """A mail domain nobody outside this machine can answer for (receivers treat it as spam or bounce it)."""
    domain = domain.lower().rstrip(".")
    return "." not in domain or domain.endswith((".local", ".localhost", ".invalid", ".test", ".internal"))


if HTTPS and not DEBUG:
    # Like the weak key above: the laptop defaults would pass `check --deploy` and then send mail that
    # receivers reject or file as spam.
    for _name, _domain in (
        ("DEFAULT_FROM_EMAIL", parseaddr(DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]),
        ("EMAIL_MESSAGE_ID_DOMAIN", EMAIL_MESSAGE_ID_DOMAIN),
    ):
        if _local_only(_domain):
            raise ImproperlyConfigured(
                f"{_name} uses the domain {_domain!r}, which only exists on this machine: set it to your own "
                'domain for a deployment (e.g. DEFAULT_FROM_EMAIL="CrampTrack <cramptrack@your-domain>").'
            )
# Kill-switch for every weekly email; and how many people one beat tick plans.
DIGESTS_ENABLED = env.bool("DIGESTS_ENABLED", default=True)
DIGEST_PLAN_BATCH = env.int("DIGEST_PLAN_BATCH", default=5000)
# Seconds a worker's claim on one weekly email lasts; after that (its worker presumed dead) another may send it.
DIGEST_CLAIM_SECONDS = env.int("DIGEST_CLAIM_SECONDS", default=600)

# --- Reminders (notifications.reminders) ------------------------------------------
# Web Push's VAPID key pair (RFC 8292). Production needs VAPID_PRIVATE_KEY (`manage.py vapid_keys` prints
# one; notifications.checks refuses to start without it); elsewhere a key is made in var/ on first use.
VAPID_PRIVATE_KEY = env.str("VAPID_PRIVATE_KEY", default="")
# Who push services may contact about this sender: a mailto: or https: address.
VAPID_SUBJECT = env.str("VAPID_SUBJECT", default=f"mailto:{parseaddr(DEFAULT_FROM_EMAIL)[1]}")
# Kill-switch for every reminder; how many people one planning transaction takes.
REMINDERS_ENABLED = env.bool("REMINDERS_ENABLED", default=True)
REMINDER_PLAN_BATCH = env.int("REMINDER_PLAN_BATCH", default=5000)
# Seconds a worker's claim on one reminder lasts; after that (its worker presumed dead) another may send it.
REMINDER_CLAIM_SECONDS = env.int("REMINDER_CLAIM_SECONDS", default=120)
# A reminder that cannot arrive within this many minutes of its time is skipped, never sent late.
REMINDER_LATE_MINUTES = env.int("REMINDER_LATE_MINUTES", default=120)
# Push endpoints may be plain http on this machine (tests, a local receiver); never in production.
PUSH_ALLOW_LOCAL_HTTP = env.bool("PUSH_ALLOW_LOCAL_HTTP", default=DEBUG)
PUSH_TIMEOUT_SECONDS = env.float("PUSH_TIMEOUT_SECONDS", default=10.0)

# --- Static files, i18n, security ----------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
# Serve static files straight from static/ and the apps, without collectstatic
# (the browser tests; collecting and compressing Swagger's bundles takes minutes).
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=DEBUG)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": env.str("STATICFILES_BACKEND", default="cramptrack.storage.StaticStorage")},
}

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- HTTPS, proxies, security headers (`manage.py check --deploy` is clean with an https SITE_URL) ---

# How many reverse proxies sit in front of the app, each appending to X-Forwarded-For.
# 0 (the default): the client address is REMOTE_ADDR and X-Forwarded-* headers are ignored,
# since any client can send them. N: the Nth address from the right of X-Forwarded-For is
# the client's, and X-Forwarded-Proto: https from the proxy marks the request as secure.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT  # allauth's client IP, used by every rate limit
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
# Load balancers and container health checks probe over plain http inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Preloading is a promise to browsers that is slow to undo, so it is opt-in; with it off,
# Django's reminder (security.W021) is silenced rather than failing `check --deploy`.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The episode index's INCLUDE columns speed up the analysis on PostgreSQL; SQLite keeps the plain index.
    SILENCED_SYSTEM_CHECKS.append("models.W040")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=HTTPS)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 90  # a phone stays logged in for a season
# Clinicians (sharing.mfa): the session ends after this many hours without use, and the second
# factor is asked again this many hours after it was last given.
CLINICIAN_SESSION_HOURS = env.int("CLINICIAN_SESSION_HOURS", default=8)
CLINICIAN_REAUTH_HOURS = env.int("CLINICIAN_REAUTH_HOURS", default=12)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Sent by cramptrack.middleware.PermissionsPolicyMiddleware: no page needs any of these.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
)
# No inline styles or handlers anywhere: templates pass data in data-* attributes. Script
# tags carry a fresh per-response nonce (request.csp_nonce); the one inline script (the
# theme before first paint, layout.html) takes it, never 'unsafe-inline'.
# The API docs page relaxes style-src for Swagger UI's own inline styles (cramptrack/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Sharing ---------------------------------------------------------------------

# Days a clinician-access log row is kept; beat's daily sharing.purge_access_log (or
# `manage.py purge_access_log`) deletes older ones. 0 keeps them for the account's life.
ACCESS_LOG_RETENTION_DAYS = env.int("ACCESS_LOG_RETENTION_DAYS", default=2 * 365)

# --- Logging -------------------------------------------------------------------

# One JSON object per line (python-json-logger), each with the request id that django-guid
# takes from a well-formed incoming X-Request-ID (a UUID) or makes up, and returns in the
# response's X-Request-ID. Celery tasks inherit the id of the request that queued them.
# Nothing logs request bodies, form values or diary fields: paths, ids and status only.
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": True,
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": False,
    "INTEGRATIONS": [CeleryIntegration(use_django_logging=True, log_parent=False)],
}
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "django_guid.log_filters.CorrelationId", "correlation_id_field": "request_id"},
        "redact_database_detail": {"()": "cramptrack.logfilters.RedactDatabaseDetail"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "redact_database_detail"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Its INFO lines are one per request and say nothing; its warnings would echo a bad header.
        "django_guid": {"level": "ERROR"},
    },
}

# --- Resilience: Redis down or hanging ---------------------------------------
# Nothing on the diary write path waits for Redis (the "analyse me" marker is a
# PostgreSQL column, sessions live in the database). Everything else that does
# talk to Redis gives up within a bound instead of hanging a worker thread:
# a stopped server refuses at once, a hung one (SIGSTOP, a full network) stalls
# a read until the socket timeout. See bench/RELIABILITY.md.
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=1.0)
if REDIS_URL:
    CACHES["default"]["OPTIONS"] = {
        "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
    }
    _visibility_timeout = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A task not acknowledged within this time (its worker died) is handed out again;
        # workers look for such tasks every fifth of it (at most every minute).
        "visibility_timeout": _visibility_timeout,
        "unacked_restore_interval": min(60, max(1, _visibility_timeout // 5)),
        "unacked_restore_throttle": 1,
        "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
        # No read timeout on the broker connection: a worker simply waits out a hung Redis and
        # carries on. With one (10 s was tried), an acknowledgement that timed out left kombu 5.7's
        # consumer wedged for good after Redis came back (bench/RELIABILITY.md, fault runs).
        "socket_keepalive": True,
        "health_check_interval": 25,
    }
# A publish (a beat tick's .delay()) fails after a few quick tries; the planner's
# durable rows in PostgreSQL bring the work back on the next tick.
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
# The planner's claim on a queued diary: long enough for a deep queue to drain, short enough
# that diaries whose queued message was lost with Redis are analysed again soon.
ANALYSIS_CLAIM_SECONDS = env.int("ANALYSIS_CLAIM_SECONDS", default=30 * 60)
# Workers wait out a broker outage of any length instead of exiting after 100 tries.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# acks_late tasks whose worker dies are redelivered; a task that keeps killing its
# worker is dropped after this many redeliveries (cramptrack.redelivery) and the
# planner's bounded attempts in PostgreSQL take over.
CELERY_MAX_REDELIVERIES = env.int("CELERY_MAX_REDELIVERIES", default=3)

# --- Hostile input ---------------------------------------------------------------
# JSON with lone surrogates or absurd nesting is a 400 (cramptrack.parsers), not a 500.
# The API speaks JSON only (the import endpoint also takes file uploads): form encodings carry
# no types, so "true" for a yes/no or "" for an id slipped past what the schema promises.
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = ["cramptrack.parsers.StrictJSONParser"]
REST_FRAMEWORK["TEST_REQUEST_DEFAULT_FORMAT"] = "json"
# The schema documents the error answers too (cramptrack.schema), so schemathesis can hold the API to it.
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "cramptrack.schema.document_error_responses",
]
