"""Screenshots of what a clinician sees, for a review or a release note (not a test, not committed output).

    .venv/bin/python bench/clinician_gallery.py [OUT_DIR]     # default: test-artifacts/clinician

Builds a throwaway embedded site (SQLite, file cache, in a temporary VAR_DIR): the demo patient
(120 nights, a statin start that raised the cramps: an E2 escalation) with a swollen left calf
(a DVT red flag) and dark urine and weakness on the statin, plus two other patients for the
dashboard (one steady, one who logged too few nights for a rate). It serves the site on a local
port, signs the demo clinician in (password and TOTP, as recorded in the session), and saves at
desktop width: dashboard.png, patient.png, report.png (the HTML report), and report-pdf.png (the
PDF's page, rendered by pdftoppm from poppler-utils; apt-get install poppler-utils) with report.pdf.
Needs Debian's Chromium (CHROMIUM, default /usr/bin/chromium).
"""

import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
DESKTOP = {"width": 1440, "height": 900}


def configure(var_dir: str) -> None:
    """The embedded default in a fresh directory, whatever this shell points at."""
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        VAR_DIR=var_dir,
        SECRET_KEY="gallery-only-not-a-deployment",
        DEBUG="0",
        STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="cramptrack.settings",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def episode(user, day, hour: int = 3, **fields):
    from diary.models import Episode

    zone = user.profile.zone
    started = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone) + timedelta(hours=hour)
    return Episode.objects.create(user=user, started_at=started, **{"muscle": "calf", "side": "left", **fields})


def other_patient(email: str, name: str, nights: int, logged_share: float, seed: int):
    """A plain diary: check-ins on `logged_share` of the nights, a cramp on about a third of them."""
    from accounts.models import User
    from diary.localtime import local_today
    from diary.models import CheckIn

    first, last_name = name.split()
    user = User.objects.create_user(email=email, first_name=first, last_name=last_name)
    rng = random.Random(seed)
    last = local_today(user.profile.zone) - timedelta(days=1)
    for offset in range(nights):
        day = last - timedelta(days=offset)
        if rng.random() > logged_share:
            continue
        cramps = rng.random() < 0.35
        if cramps:
            episode(user, day, severity=rng.randint(3, 7), duration_minutes=rng.randint(1, 4))
        else:
            CheckIn.objects.create(user=user, date=day, no_cramps=True)
    return user


def seed() -> tuple:
    from diary import demo
    from diary.localtime import local_today
    from insights.refresh import analyse_and_store
    from sharing import codes
    from sharing.demo import share_demo_diary
    from sharing.models import Grant

    demo.seed_demo()
    grant = share_demo_diary()
    patient = grant.patient
    last = local_today(patient.profile.zone) - timedelta(days=1)
    episode(patient, last - timedelta(days=11), side="left", severity=6, duration_minutes=3, calf_swelling=True)
    episode(patient, last - timedelta(days=19), hour=4, side="both", severity=7, duration_minutes=4, dark_urine=True)
    episode(patient, last - timedelta(days=16), hour=2, side="right", severity=6, duration_minutes=2, weakness=True)
    steady = other_patient("steady@example.org", "Rosa Steady", 120, 0.9, 1)
    sparse = other_patient("sparse@example.org", "Sam Sparse", 120, 0.1, 2)
    for other in (steady, sparse):
        copied = ("clinician", "clinician_email", "kind", "offer_expires_at", "accepted_at", "created_at", "expires_at")
        Grant.objects.create(
            patient=other, code_hash=codes.code_hash(codes.new_code()), **{f: getattr(grant, f) for f in copied}
        )
    analyse_and_store([patient.pk, steady.pk, sparse.pk])
    return grant


def signed_in_cookie(clinician) -> str:
    """A session that has passed the password and the TOTP step, as allauth's login records them."""
    from django.test import Client

    client = Client()
    client.force_login(clinician)
    session = client.session
    now = time.time()
    session["account_authentication_methods"] = [
        {"method": "password", "at": now, "email": clinician.email},
        {"method": "mfa", "at": now, "type": "totp"},
    ]
    session["account_authentication_methods_user"] = str(clinician.pk)
    session.save()
    return session.session_key


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def serve():
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.wsgi import get_wsgi_application

    server = make_server(
        "127.0.0.1", 0, StaticFilesHandler(get_wsgi_application()), ThreadingServer, handler_class=QuietHandler
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "test-artifacts" / "clinician").resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cramptrack-gallery-") as var_dir:
        configure(var_dir)
        from django.conf import settings
        from django.urls import reverse
        from playwright.sync_api import sync_playwright

        grant = seed()
        server, base = serve()
        key = signed_in_cookie(grant.clinician)
        pages = {
            "dashboard": reverse("clinician-dashboard"),
            "patient": reverse("clinician-patient", args=[grant.uuid]),
            "report": reverse("clinician-report", args=[grant.uuid]),
        }
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            context = browser.new_context(viewport=DESKTOP)
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": key, "url": base}])
            page = context.new_page()
            for name, path in pages.items():
                page.goto(base + path)
                # The patient page ends in the full cramp and check-in tables: stop above them.
                end = page.locator("#episodes-title")
                clip = None
                if end.count():
                    clip = {"x": 0, "y": 0, "width": DESKTOP["width"], "height": end.bounding_box()["y"] - 16}
                page.screenshot(path=str(out / f"{name}.png"), full_page=True, clip=clip)
            pdf = context.request.get(base + reverse("clinician-report-pdf", args=[grant.uuid]))
            assert pdf.ok, pdf.status
            (out / "report.pdf").write_bytes(pdf.body())
            browser.close()
        server.shutdown()
    subprocess.run(["pdftoppm", "-png", "-r", "110", "-singlefile", out / "report.pdf", out / "report-pdf"], check=True)
    for path in sorted(out.iterdir()):
        print(path)


if __name__ == "__main__":
    main()
