"""PWA budget: Lighthouse scores and first-load compressed bytes of the log page.

    .venv/bin/python bench/lighthouse.py [--runs 3]      (or: make bench-pwa)

Serves the app the way production does (gunicorn, DEBUG=0, collectstatic with the
hashed, compressed storage, WhiteNoise) on 127.0.0.1 with a fresh database and a
logged-in patient who has four months of diary, then:

1. runs Lighthouse from npm (pinned in package.json) against the log page with
   Debian's Chromium, mobile form factor and Lighthouse's default mobile
   throttling, `--runs` times, and reports the median performance,
   accessibility and best-practices scores. The session cookie goes into the
   browser's cookie jar (bench/lighthouse-run.mjs, Lighthouse's Node API):
   the CLI's --extra-headers Cookie doesn't reach the page's fetch() calls;
2. measures the log page's first load the way a phone fetches it: the HTML, the
   stylesheet, every module (following imports), the manifest and its icons,
   each as gzip-compressed bytes (WhiteNoise serves the precompressed .gz files;
   the HTML, which Django sends uncompressed, is gzipped here at level 6, as a
   proxy would). The service worker's precache of the other pages, fetched after
   the page is interactive, is reported separately.

Budgets: log page <= 100 KB compressed; Lighthouse mobile
performance, accessibility and best practices >= 95. Results go to bench/results/.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS_DIR = ROOT / "bench" / "results"
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
RUNNER = ROOT / "bench" / "lighthouse-run.mjs"
CHROMIUM = os.environ.get("CHROME_PATH", "/usr/bin/chromium")

PG_SERVER = "postgres://postgres@127.0.0.1:5432/"
BENCH_DB = "cramptrack_bench_pwa"
REDIS_URL = "redis://127.0.0.1:6379/12"
CATEGORIES = ["performance", "accessibility", "best-practices"]
BUDGET_BYTES = 100 * 1024
BUDGET_SCORE = 95


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(command: list[str], env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, env=env, check=True, **kwargs)


def prepare(env: dict, database: str = BENCH_DB) -> str:
    """A fresh database (env's DATABASE_URL names it) with the demo patient; returns a session cookie for them."""
    import psycopg

    with psycopg.connect(PG_SERVER + "postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {database}")
    python = str(BIN / "python")
    run([python, "manage.py", "migrate", "--no-input", "-v0"], env)
    # Swagger's bundles aren't on the log page; compressing them takes minutes.
    run([python, "manage.py", "collectstatic", "--no-input", "-v0", "-i", "drf_spectacular_sidecar"], env)
    script = (
        "from django.test import Client; from diary.demo import seed_demo, PATIENT_EMAIL; "
        "from accounts.models import User; seed_demo(); c = Client(); "
        "c.force_login(User.objects.get(email=PATIENT_EMAIL)); print(c.cookies['sessionid'].value)"
    )
    out = run([python, "manage.py", "shell", "-c", script], env, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def start_server(env: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "cramptrack.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=1).close()
            return server
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def fetch(url: str, cookie: str) -> tuple[bytes, int, str]:
    """(body, bytes on the wire with gzip allowed, content type)."""
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={cookie}", "Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request) as response:
        wire = response.read()
        encoding = response.headers.get("Content-Encoding", "")
        kind = response.headers.get("Content-Type", "")
    body = gzip.decompress(wire) if encoding == "gzip" else wire
    compressed = len(wire) if encoding == "gzip" else len(gzip.compress(wire, 6))
    return body, compressed, kind


def first_load_bytes(base: str, cookie: str) -> dict:
    """Every file the log page loads, gzip-compressed, following module imports."""
    html, html_gz, _ = fetch(base + "/", cookie)
    text = html.decode()
    queue = re.findall(r'(?:href|src)="(/[^"]+\.(?:css|js|png|webmanifest))"', text)
    files = {"/ (HTML)": html_gz}
    seen = set()
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        body, size, kind = fetch(base + path, cookie)
        files[path] = size
        if path.endswith(".js"):
            queue += [urljoin(path, spec) for spec in re.findall(r'from\s*"(\.[^"]+)"', body.decode())]
        if path.endswith(".webmanifest"):
            queue += [icon["src"] for icon in json.loads(body)["icons"]]
    return files


def precache_bytes(base: str, cookie: str, already: set[str]) -> int:
    sw, _, _ = fetch(base + "/sw.js", cookie)
    urls = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", sw.decode(), re.S).group(1))
    return sum(fetch(base + url, cookie)[1] for url in urls if url not in already and url != "/")


def lighthouse(url: str, cookie: str, out: Path) -> dict:
    # The phone in the demo patient's zone (diary.demo.ZONE), as on every day but a trip: in another
    # zone the app asks, on every run (Lighthouse clears storage), whether to move the diary.
    env = {**os.environ, "CHROME_PATH": CHROMIUM, "TZ": "Europe/London"}
    for attempt in range(3):
        # Lighthouse occasionally fails to read Chromium's trace (NO_NAVSTART): try again.
        done = subprocess.run(["node", str(RUNNER), url, cookie, str(out)], cwd=ROOT, env=env)
        if done.returncode == 0 and out.exists() and "runtimeError" not in json.loads(out.read_text()):
            break
        print(f"  lighthouse attempt {attempt + 1} failed; retrying", flush=True)
    else:
        raise RuntimeError("lighthouse failed three times")
    report = json.loads(out.read_text())
    scores = {name: round(report["categories"][name]["score"] * 100) for name in CATEGORIES}
    audits = report["audits"]
    scores["total-byte-weight (KB, as served)"] = round(audits["total-byte-weight"]["numericValue"] / 1024, 1)
    scores["first-contentful-paint (ms)"] = round(audits["first-contentful-paint"]["numericValue"])
    scores["largest-contentful-paint (ms)"] = round(audits["largest-contentful-paint"]["numericValue"])
    scores["total-blocking-time (ms)"] = round(audits["total-blocking-time"]["numericValue"])
    scores["cumulative-layout-shift"] = round(audits["cumulative-layout-shift"]["numericValue"], 3)
    scores["failing audits"] = sorted(
        key
        for key, audit in audits.items()
        if audit.get("score") is not None and audit["score"] < 0.9 and audit.get("scoreDisplayMode") == "binary"
    )
    return scores


def server_env(port: int, var_dir: Path, database: str, redis_url: str = REDIS_URL) -> dict[str, str]:
    """The environment gunicorn runs under for a browser benchmark: production settings, local servers,
    the hashed static files collectstatic writes (not the finders a developer's shell may ask for)."""
    env = {
        **os.environ,
        "DATABASE_URL": PG_SERVER + database,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "bench-only-secret",
        "DEBUG": "0",
        "VAR_DIR": str(var_dir),
        "SITE_URL": f"http://127.0.0.1:{port}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("STATICFILES_BACKEND", None)
    env.pop("WHITENOISE_USE_FINDERS", None)
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs (the median is reported)")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium")

    port = free_port()
    var_dir = Path(tempfile.mkdtemp(prefix="cramptrack-bench-pwa-"))
    env = server_env(port, var_dir, BENCH_DB)
    print("preparing the database, static files and a demo patient…", flush=True)
    cookie = prepare(env)
    server = start_server(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        files = first_load_bytes(base, cookie)
        total = sum(files.values())
        later = precache_bytes(base, cookie, set(files))
        runs = []
        for i in range(args.runs):
            print(f"lighthouse run {i + 1} of {args.runs}…", flush=True)
            runs.append(lighthouse(base + "/", cookie, var_dir / f"lighthouse-{i}.json"))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    median = {name: statistics.median(run[name] for run in runs) for name in CATEGORIES}
    result = {
        "when": datetime.now().isoformat(timespec="seconds"),
        "lighthouse_median": median,
        "lighthouse_runs": runs,
        "first_load_gzip_bytes": files,
        "first_load_gzip_total_kb": round(total / 1024, 1),
        "service_worker_precache_after_load_kb": round(later / 1024, 1),
        "budgets_met": total <= BUDGET_BYTES and all(score >= BUDGET_SCORE for score in median.values()),
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"lighthouse-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2))

    print(f"\nLog page, first load, gzip-compressed ({len(files)} files):")
    for name, size in sorted(files.items(), key=lambda kv: -kv[1]):
        print(f"  {size / 1024:7.1f} KB  {name}")
    print(f"  {total / 1024:7.1f} KB  total (budget {BUDGET_BYTES // 1024} KB)")
    print(f"  then the service worker precaches the other pages and modules: {later / 1024:.1f} KB")
    version = json.loads((ROOT / "package.json").read_text())["devDependencies"]["lighthouse"]
    print(f"\nLighthouse {version}, mobile, median of {len(runs)}:")
    for name in CATEGORIES:
        print(f"  {name:15} {median[name]:5.0f}  (runs: {[run[name] for run in runs]}; budget >= {BUDGET_SCORE})")
    print(f"  failing binary audits: {sorted({a for run in runs for a in run['failing audits']}) or 'none'}")
    print(f"\n{'budgets met' if result['budgets_met'] else 'BUDGETS MISSED'}; results in {path.relative_to(ROOT)}")
    return 0 if result["budgets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
