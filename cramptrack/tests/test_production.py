"""Production settings, checked the way they run: fresh processes with a production
environment (manage.py check --deploy, gunicorn), and the headers real pages carry."""

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from .conftest import free_port

pytestmark = pytest.mark.servers

ROOT = Path(settings.BASE_DIR)
SITE = "https://cramps.example.org"
VAPID_KEY = "eGQ9OwHJPsPE6R54w9Vb6jldveT_YAk86IYfef6cbRA"  # a P-256 private key, as `manage.py vapid_keys` prints


def production_env(**overrides) -> dict[str, str]:
    """What a deployment sets: DEBUG off, an https SITE_URL, a strong key, its own hosts."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SITE_URL": SITE,
        "ALLOWED_HOSTS": "cramps.example.org",
        "CSRF_TRUSTED_ORIGINS": SITE,
        "DEFAULT_FROM_EMAIL": "CrampTrack <cramptrack@cramps.example.org>",
        "VAPID_PRIVATE_KEY": VAPID_KEY,
        "DATABASE_URL": os.environ.get("DATABASE_URL", ""),
        "REDIS_URL": settings.REDIS_URL,
        "TRUSTED_PROXY_COUNT": "0",
        "LOG_LEVEL": "WARNING",
    }
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def settings_in(env: dict[str, str], *names: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {list(names)!r}}}))"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "cramptrack.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_is_clean_with_production_settings():
    result = manage(production_env(), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_on_plain_http():
    """The check is not vacuous: the same command fails when the site is not https."""
    result = manage(
        production_env(SITE_URL="http://cramps.example.org"), "check", "--deploy", "--fail-level", "WARNING"
    )
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


def test_production_settings_values():
    values = settings_in(
        production_env(),
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_PROXY_SSL_HEADER",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
    )
    assert values["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is False  # opt-in
    assert values["SECURE_SSL_REDIRECT"] is values["SESSION_COOKIE_SECURE"] is values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] is None  # no proxy trusted unless configured
    assert values["ALLOWED_HOSTS"] == ["cramps.example.org"]
    assert values["CSRF_TRUSTED_ORIGINS"] == [SITE]
    behind = settings_in(
        production_env(TRUSTED_PROXY_COUNT="1", SECURE_HSTS_SECONDS="600", SECURE_HSTS_PRELOAD="1"),
        "SECURE_PROXY_SSL_HEADER",
        "ALLAUTH_TRUSTED_PROXY_COUNT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_PRELOAD",
    )
    assert behind == {
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "ALLAUTH_TRUSTED_PROXY_COUNT": 1,
        "SECURE_HSTS_SECONDS": 600,
        "SECURE_HSTS_PRELOAD": True,
    }


def test_refuses_to_start_without_a_secret_key():
    result = manage(production_env(SECRET_KEY=None), "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize("weak", ["test", "x" * 60, "django-insecure-" + secrets.token_urlsafe(50)])
def test_refuses_a_weak_secret_key_on_https(weak):
    result = manage(production_env(SECRET_KEY=weak), "check")
    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("DEFAULT_FROM_EMAIL", None),  # the laptop default, cramptrack@localhost
        ("DEFAULT_FROM_EMAIL", "CrampTrack <cramptrack@cramptrack.local>"),
        ("EMAIL_MESSAGE_ID_DOMAIN", "cramptrack.local"),
    ],
)
def test_refuses_a_local_only_mail_domain_on_https(setting, value):
    result = manage(production_env(**{setting: value}), "check")
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {setting} uses the domain" in result.stderr


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"VAPID_PRIVATE_KEY": None}, "VAPID_PRIVATE_KEY is not set"),
        ({"VAPID_PRIVATE_KEY": "not-a-key"}, "VAPID_PRIVATE_KEY is not a P-256 private key"),
        ({"VAPID_SUBJECT": "cramps.example.org"}, "VAPID_SUBJECT must be a mailto: or https: address"),
    ],
)
def test_refuses_to_start_without_a_usable_vapid_key(overrides, named):
    result = manage(production_env(**overrides), "check")
    assert result.returncode != 0
    assert named in result.stderr and "notifications.E001" in result.stderr


def test_vapid_keys_prints_a_key_the_deployment_accepts():
    printed = manage(production_env(VAPID_PRIVATE_KEY=None), "vapid_keys")
    assert printed.returncode == 0, printed.stderr
    key = re.search(r"^VAPID_PRIVATE_KEY=(\S+)$", printed.stdout, re.MULTILINE)[1]
    assert manage(production_env(VAPID_PRIVATE_KEY=key), "check").returncode == 0


def test_message_ids_name_the_sites_own_host():
    assert settings_in(production_env(), "EMAIL_MESSAGE_ID_DOMAIN") == {"EMAIL_MESSAGE_ID_DOMAIN": "cramps.example.org"}


def test_make_run_defaults_still_start():
    """`make run`: .env.example with a generated key, DEBUG=0, http://localhost:8000."""
    env = production_env(
        SITE_URL="http://localhost:8000", ALLOWED_HOSTS="localhost,127.0.0.1", CSRF_TRUSTED_ORIGINS=None
    )
    assert manage(env, "check").returncode == 0
    values = settings_in(env, "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "SECURE_HSTS_SECONDS")
    # Plain http on a laptop: no redirect to https, cookies a browser sends over http.
    assert values == {"SECURE_SSL_REDIRECT": False, "SESSION_COOKIE_SECURE": False, "SECURE_HSTS_SECONDS": 0}
    # And DEBUG=1 without any key (the documented developer escape hatch).
    assert manage({**env, "DEBUG": "1", "SECRET_KEY": ""}, "check").returncode == 0


def test_the_embedded_sqlite_default_checks_clean(tmp_path):
    """`make run`'s SQLite: the database checks (index options SQLite lacks) raise no warning."""
    env = production_env(SITE_URL="http://localhost:8000", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    result = manage(env, "check", "--database", "default", "--fail-level", "WARNING")
    assert result.returncode == 0 and "no issues" in result.stdout, result.stdout + result.stderr


# --- A real gunicorn with production settings ------------------------------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, headers: dict | None = None):
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers={"Host": "cramps.example.org", **(headers or {})})  # noqa: S310
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def serve(tmp_path_factory, **overrides):
    """gunicorn with production settings on the test database; yields its base URL."""
    from django.db import connection

    db = connection.settings_dict
    port = free_port()
    env = production_env(
        DATABASE_URL=f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        VAR_DIR=str(tmp_path_factory.mktemp("var")),
        WHITENOISE_USE_FINDERS="1",
        STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage",
        **overrides,
    )
    gunicorn = Path(sys.executable).parent / "gunicorn"
    log = (tmp_path_factory.mktemp("log") / "gunicorn.log").open("wb")
    process = subprocess.Popen(  # noqa: S603
        [str(gunicorn), "cramptrack.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, f"gunicorn exited with {process.returncode}"
        try:
            fetch(f"{base}/healthz")
            break
        except OSError:
            assert time.monotonic() < deadline, "gunicorn did not answer within 30 s"
            time.sleep(0.1)
    yield base
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def production_server(django_db_setup, tmp_path_factory):
    """Behind one (pretend) TLS-terminating proxy."""
    yield from serve(tmp_path_factory, TRUSTED_PROXY_COUNT="1")


@pytest.fixture(scope="module")
def exposed_server(django_db_setup, tmp_path_factory):
    """No proxy trusted (TRUSTED_PROXY_COUNT=0, the default)."""
    yield from serve(tmp_path_factory, TRUSTED_PROXY_COUNT="0")


def test_plain_http_is_redirected_to_https(production_server):
    status, headers, _ = fetch(f"{production_server}/accounts/login/")
    assert status == 301
    assert headers["Location"] == "https://cramps.example.org/accounts/login/"
    # Health checks probe over http inside the network and must not be bounced.
    assert fetch(f"{production_server}/healthz")[0] in (200, 503)


def test_https_pages_carry_every_security_header(production_server):
    status, headers, html = fetch(f"{production_server}/accounts/login/", {"X-Forwarded-Proto": "https"})
    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in headers["Permissions-Policy"] and "geolocation=()" in headers["Permissions-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    cookies = headers.get_all("Set-Cookie")
    csrf = next(cookie for cookie in cookies if cookie.startswith("csrftoken="))
    assert "Secure" in csrf and "SameSite=Lax" in csrf
    assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])


def test_a_forwarded_proto_from_a_client_is_not_trusted_without_the_proxy_setting(exposed_server):
    """Without TRUSTED_PROXY_COUNT anyone could send X-Forwarded-Proto: it must not make
    plain http count as https (no redirect skipped, no Secure cookie sent over http)."""
    status, headers, _ = fetch(f"{exposed_server}/accounts/login/", {"X-Forwarded-Proto": "https"})
    assert status == 301
    assert headers["Location"].startswith("https://")
    assert "Strict-Transport-Security" not in headers


# --- The nonce-based Content-Security-Policy --------------------------------------------------


def script_nonces(html: str) -> list[str]:
    return re.findall(r'<script\b[^>]*\bnonce="([^"]+)"', html)


def policy_nonce(policy: str) -> str:
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    match = re.fullmatch(r"'self' 'nonce-([^']+)'", directives["script-src"])
    assert match, directives["script-src"]
    assert "unsafe-inline" not in policy
    return match.group(1)


@pytest.mark.parametrize("path", ["/", "/diary/", "/settings/", "/accounts/logout/"])
def test_every_page_gets_a_fresh_nonce_that_its_scripts_carry(client, alice, path):
    client.force_login(alice)
    seen = set()
    for _ in range(3):
        response = client.get(path)
        assert response.status_code == 200
        nonce = policy_nonce(response["Content-Security-Policy"])
        assert len(nonce) >= 22  # 16 random bytes, base64
        scripts = script_nonces(response.content.decode())
        assert scripts and set(scripts) == {nonce}
        seen.add(nonce)
    assert len(seen) == 3  # never reused between responses
