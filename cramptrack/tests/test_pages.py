"""The phone app's pages, service worker, manifest and Content-Security-Policy,
checked without a browser (test_pwa_browser.py drives the real thing)."""

import json
import re
import struct
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
PAGES = ["/", "/diary/", "/checkin/", "/episode/", "/insights/", "/settings/", "/welcome/"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_needs_a_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_a_shell_and_set_the_csrf_cookie(client, alice, path):
    client.force_login(alice)
    response = client.get(path)
    assert response.status_code == 200
    assert "csrftoken" in response.cookies  # the modules send it back as X-CSRFToken
    html = response.content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert 'name="apple-mobile-web-app-capable"' in html
    assert re.search(r'<script type="module" src="/static/js/\w+\.js" nonce="[\w+/=]+">', html)


def test_pages_hold_no_diary_data_so_the_worker_may_cache_them(client, alice):
    from datetime import UTC, datetime

    from diary.models import Episode

    started = datetime(2026, 11, 3, 3, 10, tzinfo=UTC)
    Episode.objects.create(user=alice, started_at=started, muscle="calf", side="left", notes="after the hill walk")
    client.force_login(alice)
    for path in PAGES:
        assert "after the hill walk" not in client.get(path).content.decode()


def test_signup_leads_to_the_welcome_page(client):
    response = client.post(
        "/accounts/signup/", {"email": "erin@example.org", "password1": "a long night of cramps", "role": "patient"}
    )
    assert response.status_code == 302
    assert response.url == "/welcome/"


def test_the_csp_forbids_inline_script_and_framing(client, alice):
    client.force_login(alice)
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert re.fullmatch(r"'self' 'nonce-[\w+/=]{20,}'", directives["script-src"])
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["worker-src"] == "'self'"
    assert "unsafe" not in policy


def test_web_templates_have_no_inline_scripts_handlers_or_styles():
    offenders = []
    with_nonce = []
    for path in (ROOT / "templates").rglob("*.html"):
        if "emails" in path.parts:
            continue  # email clients need inline styles; no CSP applies there
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if 'nonce="{{ request.csp_nonce }}"' in tag and "src=" not in tag:
                with_nonce.append(path.name)
            elif "src=" not in tag:
                offenders.append(f"{path.name}: inline {tag}")
        if re.search(r"\son[a-z]+\s*=", text):
            offenders.append(f"{path.name}: an on*= handler")
        if re.search(r"\sstyle\s*=", text):
            offenders.append(f"{path.name}: a style attribute")
    assert offenders == []
    # The one inline script, with the response's nonce: the theme chosen under You, before first paint.
    assert with_nonce == ["layout.html"]


def test_the_service_worker_is_served_from_the_root_and_never_cached(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache"
    assert response["Service-Worker-Allowed"] == "/"
    body = response.content.decode()
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", body, re.S).group(1))
    for name in ["css/app.css", "js/outbox.js", "js/log.js", "icons/icon-192.png"]:
        assert f"/static/{name}" in precache
    assert "/" in precache and "/diary/" in precache


def test_the_worker_version_changes_with_the_files_it_caches(monkeypatch, tmp_path):
    from cramptrack import views

    before = views._version()
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "extra.js").write_text("export const x = 1;\n")
    monkeypatch.setattr(views, "STATIC_DIR", tmp_path)
    assert views._version() != before


def test_the_manifest_is_installable(client):
    response = client.get("/manifest.webmanifest")
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    assert manifest["name"] and manifest["short_name"] and manifest["theme_color"]
    found = {}
    for icon in manifest["icons"]:
        png = (ROOT / "static" / icon["src"].removeprefix("/static/")).read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        width, height = struct.unpack(">II", png[16:24])
        assert icon["sizes"] == f"{width}x{height}"
        found[(icon["sizes"], icon["purpose"])] = True
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= set(found)


def test_api_docs_load_their_init_script_from_a_url(client, alice):
    client.force_login(alice)
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert not re.search(r"<script>(?!</script>)", html)  # no inline script
    assert "script-src 'self'" in page["Content-Security-Policy"]
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


def test_collectstatic_hashes_the_imports_inside_the_apps_modules(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "cramptrack.storage.StaticStorage"}}
    call_command("collectstatic", interactive=False, verbosity=0)
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    log = (tmp_path / manifest["js/log.js"]).read_text()
    imports = re.findall(r'from "(\./[^"]+)";', log)
    assert imports, "log.js imports nothing?"
    for specifier in imports:
        assert re.fullmatch(r"\./\w+\.[0-9a-f]{12}\.js", specifier), specifier
        assert (tmp_path / "js" / specifier[2:]).exists()
    assert (tmp_path / (manifest["js/log.js"] + ".gz")).exists()


def test_health_data_is_never_stored_by_an_http_cache(client, alice, alice_api):
    """API answers and signed-in pages say no-store; the service worker keeps its own rule."""
    responses = [alice_api.get("/api/v1/episodes/"), alice_api.get("/api/v1/export/")]
    client.force_login(alice)
    responses += [client.get("/"), client.get("/insights/"), client.get("/api/v1/episodes/")]
    for response in responses:
        assert response.status_code == 200, response
        assert "no-store" in response["Cache-Control"], (response.request["PATH_INFO"], response["Cache-Control"])
    assert client.get("/sw.js")["Cache-Control"] == "no-cache"
