"""`make demo` end to end on the embedded default: SQLite, kombu's filesystem broker and the file
email backend in a fresh VAR_DIR, then the Procfile's web, worker and beat as `make run` starts them,
with a beat tick of a few seconds.

pytest itself stays on PostgreSQL and Redis (the root conftest); everything here runs in
subprocesses with an environment of its own, so the suite's servers never leak in. What a new user
would check by hand is checked through the running server: the demo patient's planted patterns
(harder exercise, the statin) on their insights, the clinician's patient page, report and PDF, and
the weekly email in the mail folder.
"""

import base64
import contextlib
import hashlib
import hmac
import http.cookiejar
import io
import json
import os
import re
import signal
import struct
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from email import message_from_string
from email.policy import default
from pathlib import Path

import pytest
from pypdf import PdfReader

from diary import demo
from sharing.demo import CLINICIAN_TOTP_KEY

from .private_services import ROOT, free_port

pytestmark = pytest.mark.embedded

TICK_SECONDS = 2
# From the processes' start: their boot, a tick or two, one analysis and one email (about 10 s on a
# quiet machine; the bound is generous for a busy one and costs nothing when all is well).
DEADLINE_SECONDS = 90
# The demo's planted patterns (diary/demo.py) and the rules that find them.
EXERCISE = ("R02", "tr_overuse_exertion")
STATIN = ("R06", "med_statin")


def embedded_env(var_dir: Path, port: int) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108
        "LANG": "C.UTF-8",
        "VAR_DIR": str(var_dir),
        "SECRET_KEY": "embedded-default-test",
        "DEBUG": "0",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "PORT": str(port),
        # Empty, not unset, so a developer's .env cannot switch this run to their servers.
        # (DATABASE_URL cannot be empty; the test checks the SQLite file appears instead.)
        "REDIS_URL": "",
        "EMAIL_URL": "",
        "ANALYSIS_TICK_SECONDS": str(TICK_SECONDS),
        "DIGEST_TICK_SECONDS": str(TICK_SECONDS),
        # `make run` runs collectstatic, minutes for the API docs' bundles; serve from the sources instead.
        "WHITENOISE_USE_FINDERS": "1",
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "LOG_FORMAT": "text",
    }


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def procfile() -> dict[str, str]:
    """The Procfile's process types and commands, as honcho reads them for `make run`."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    entries = (line.split(":", 1) for line in lines if line.strip() and not line.lstrip().startswith("#"))
    return {name.strip(): command.strip() for name, command in entries}


class Stack:
    """The Procfile's processes, each in a session of its own so that all its children stop with it."""

    def __init__(self, env: dict[str, str], log_dir: Path):
        self.env, self.log_dir = env, log_dir
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self) -> None:
        for name, command in procfile().items():
            log = (self.log_dir / f"{name}.log").open("wb")
            self.processes[name] = subprocess.Popen(  # noqa: S603
                # exec: the process we wait for is the program itself, not a shell around it.
                ["/bin/sh", "-c", f"exec {command}"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def check_running(self) -> None:
        for name, process in self.processes.items():
            assert process.poll() is None, f"{name} exited with {process.returncode}"

    def stop(self) -> None:
        """SIGTERM to every group at once, a few seconds' grace, then SIGKILL to whatever is left."""
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        grace = time.monotonic() + 5
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0, grace - time.monotonic()))
            # Also a straggler of its group (a worker's pool child).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def logs(self, lines: int = 150) -> str:
        out = []
        for name in self.processes:
            text = (self.log_dir / f"{name}.log").read_text(errors="replace").splitlines()
            out.append(f"----- {name} (last {lines} lines) -----\n" + "\n".join(text[-lines:]))
        return "\n".join(out)


@contextlib.contextmanager
def running(stack: Stack):
    """The stack is stopped whatever happens; its logs are printed (shown by pytest) if the test fails."""
    stack.start()
    try:
        yield stack
    except BaseException:
        stack.stop()
        print(stack.logs())
        raise
    finally:
        stack.stop()


class Browser:
    """Cookies and the real login forms against the live server."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with self.opener.open(self.base + path, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def answers(self, path: str) -> bool:
        try:
            return self.get(path)[0] == 200
        except urllib.error.URLError:
            return False  # not listening yet

    def submit(self, path: str, fields: dict[str, str]) -> tuple[int, str, bytes]:
        """Fill in the form on `path` and post it; returns the status, final URL and body after redirects."""
        status, page = self.get(path)
        assert status == 200, f"GET {path}: {status}"
        found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert found, f"GET {path}: no CSRF token in the form"
        token = found.group(1).decode()
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        request = urllib.request.Request(self.base + path, data=body, headers={"Referer": self.base + path})  # noqa: S310
        with self.opener.open(request, timeout=30) as response:
            return response.status, urllib.parse.urlparse(response.url).path, response.read()

    def log_in(self, email: str, password: str) -> str:
        return self.submit("/accounts/login/", {"login": email, "password": password})[1]


def totp(key: str) -> str:
    """RFC 6238 (SHA-1, 30 s, 6 digits), what an authenticator app shows for the demo clinician's key."""
    if 30 - time.time() % 30 < 2:
        time.sleep(2)  # never send a code in its last moment
    digest = hmac.new(base64.b32decode(key), struct.pack(">Q", int(time.time() // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def wait_for(check, stack: Stack, deadline: float, what: str):
    while time.monotonic() < deadline:
        stack.check_running()
        if result := check():
            return result
        time.sleep(0.5)
    raise AssertionError(f"{what} within {DEADLINE_SECONDS} s of the start")


def planted(findings: list[dict]) -> dict[tuple[str, str], dict]:
    """The findings for the two planted patterns, once both say what the demo planted."""
    found = {(f["rule"], f["trigger"]): f for f in findings if f["status"] in ("possible_pattern_higher", "escalation")}
    return {key: found[key] for key in (EXERCISE, STATIN) if key in found}


def weekly_emails(mail_dir: Path) -> list[str]:
    """Messages in the file backend's folder addressed to the demo patient with an unsubscribe header."""
    if not mail_dir.is_dir():
        return []
    texts = (path.read_text(errors="replace") for path in sorted(mail_dir.iterdir()))
    return [
        text
        for text in texts
        if re.search(rf"^To: .*{re.escape(demo.PATIENT_EMAIL)}", text, re.M)
        and re.search(r"^List-Unsubscribe:", text, re.M)
    ]


def test_make_demo_on_the_embedded_default_analyses_reports_and_emails(tmp_path):
    var_dir = tmp_path / "var"
    port = free_port()
    env = embedded_env(var_dir, port)

    manage(env, "migrate", "--no-input", "-v", "0")
    assert (var_dir / "cramptrack.sqlite3").is_file(), "migrate did not use SQLite in VAR_DIR (a .env DATABASE_URL?)"
    manage(env, "seed_demo")
    manage(env, "share_demo")

    with running(Stack(env, tmp_path)) as stack:
        deadline = time.monotonic() + DEADLINE_SECONDS
        patient = Browser(f"http://127.0.0.1:{port}")
        wait_for(lambda: patient.answers("/healthz"), stack, deadline, "the web server did not answer")
        assert patient.log_in(demo.PATIENT_EMAIL, demo.PATIENT_PASSWORD) == "/"

        def insights():
            status, body = patient.get("/api/v1/insights/")
            assert status == 200, body[:500]
            data = json.loads(body)
            return data if data["analysed_at"] and len(planted(data["findings"])) == 2 else None

        # The patient's insights: both planted patterns, found by the worker after a beat tick.
        found = planted(wait_for(insights, stack, deadline, "no analysis found both planted patterns")["findings"])
        assert found[EXERCISE]["status"] == "possible_pattern_higher" and found[EXERCISE]["interval"][0] > 1
        assert found[STATIN]["interval"][0] > 1

        # The clinician: password, then the TOTP code share_demo printed, then the shared diary.
        clinician = Browser(patient.base)
        assert clinician.log_in(demo.CLINICIAN_EMAIL, demo.CLINICIAN_PASSWORD) == "/accounts/2fa/authenticate/"
        clinician.submit("/accounts/2fa/authenticate/", {"code": totp(CLINICIAN_TOTP_KEY)})
        status, body = clinician.get("/api/v1/clinician/patients/")
        assert status == 200, body[:500]
        (share,) = json.loads(body)
        pages = {
            "patient page": f"/clinician/patients/{share['id']}/",
            "report": f"/clinician/patients/{share['id']}/report/",
        }
        for what, path in pages.items():
            status, body = clinician.get(path)
            page = body.decode()
            assert status == 200, f"{what}: {status}"
            assert "Not analysed yet" not in page, what
            # The statin's rise is an escalation, in a clinician's words; the exercise pattern is a finding.
            assert "Cramps up after starting Atorvastatin" in page, f"{what} lacks the statin escalation"
            assert f'<span class="muted">{EXERCISE[0]}</span>' in page, f"{what} lacks {EXERCISE[0]}"
        assert "Last analysed" in clinician.get(pages["report"])[1].decode()
        status, body = clinician.get(f"/clinician/patients/{share['id']}/report.pdf")
        assert status == 200 and body.startswith(b"%PDF")
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
        text = " ".join(text.split())
        assert "R02" in text and "Cramps up after starting Atorvastatin" in text and "Not analysed yet" not in text

        # The weekly email: the demo patient is due at once, so the first digest tick sends it.
        (email, *_) = wait_for(
            lambda: weekly_emails(var_dir / "mail"), stack, deadline, "no weekly email reached var/mail/"
        )
        assert f"{patient.base}/" in email  # its links lead back to this site (SITE_URL)
        # Built from an analysis of the diary as it is: the statin escalation, not a general tip.
        body = message_from_string(email, policy=default).get_body(preferencelist=("plain",)).get_content()
        assert "prescriber" in body
