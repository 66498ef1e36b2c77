# One image for every process: web (the default CMD), Celery worker and beat
# (docker-compose.yml overrides the command). Configuration comes from the
# environment at run time; nothing secret is baked in.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Pango, HarfBuzz and fontconfig (and a font) for WeasyPrint's PDF reports.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libfontconfig1 \
        fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, so a code change doesn't reinstall them: the runtime lock only (no test
# tools), every package at its locked version and hash.
COPY requirements.lock .
RUN pip install --require-hashes -r requirements.lock

# The code stays root-owned (the app can't rewrite itself); only var/ is writable.
# Copied explicitly rather than `COPY . .` so a developer's .env (with its
# SECRET_KEY), .venv and var/ never end up in an image layer. A new top-level
# app must be added here; cramptrack/tests/test_compose.py checks that.
COPY manage.py gunicorn.conf.py ./
COPY cramptrack ./cramptrack
COPY accounts ./accounts
COPY diary ./diary
COPY insights ./insights
COPY notifications ./notifications
COPY sharing ./sharing
COPY templates ./templates
COPY static ./static

RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin cramptrack \
    && mkdir -p var \
    && chown cramptrack:cramptrack var
USER cramptrack

# The hashed, compressed static files live in the image (var/staticfiles, served
# by WhiteNoise). The build-only key is never used at run time; settings refuse
# to start without a real SECRET_KEY. Keep VAR_DIR unset at run time or mount
# nothing over /app/var, or the manifest disappears.
RUN SECRET_KEY=build-only DEBUG=0 python manage.py collectstatic --no-input --verbosity 0

EXPOSE 8000

# Shell form via sh -c so WEB_CONCURRENCY is read when the container starts;
# exec makes gunicorn PID 1 so it receives SIGTERM and shuts down gracefully.
CMD ["sh", "-c", "exec gunicorn cramptrack.wsgi --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-2} --threads 4 --reuse-port --access-logfile -"]
