"""The Docker stack, checked by reading its files.

There is no Docker engine in CI, so these tests pin the wiring that breaks
silently: service names in URLs, environment variable names that settings.py
never reads, and commands that name a different app than the Procfile.
"""

import ast
import importlib
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
import pytest
import yaml
from celery.app.utils import find_app
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
COMPOSE_FILE = ROOT / "docker-compose.yml"
APP_SERVICES = ("web", "worker", "beat")
# make run's worker embeds beat (--beat); compose runs beat as a service of its own (exactly one).
PROCFILE_COMMANDS = {"web": "gunicorn", "worker": "celery"}

# Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, and $$ (a literal $).
_INTERPOLATION = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?P<default>[^}]*))?\}")


def interpolate(value: Any) -> Any:
    """What compose sees with an empty environment and no .env: the shipped defaults."""
    if isinstance(value, str):
        return _INTERPOLATION.sub(lambda m: "$" if m.group(0) == "$$" else (m.group("default") or ""), value)
    if isinstance(value, dict):
        return {key: interpolate(item) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item) for item in value]
    return value


def settings_env_names() -> set[str]:
    """Every NAME in env.<reader>("NAME", ...) in settings.py: the variables the app reads."""
    tree = ast.parse((ROOT / "cramptrack" / "settings.py").read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "env"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }


def environment_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "- NAME=value" form
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {name: str(value) for name, value in env.items()}


def argv_of(command: str | list[str]) -> list[str]:
    """The long-running program's argv: the last step of an `sh -c "a && exec b"`, without `exec`."""
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    if argv[:2] == ["sh", "-c"]:
        argv = shlex.split(argv[2].split("&&")[-1])
    if argv[0] == "exec":
        argv = argv[1:]
    return argv


def option(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def positional_after(argv: list[str], word: str) -> str:
    return argv[argv.index(word) + 1]


@pytest.fixture(scope="module")
def compose() -> dict:
    return interpolate(yaml.safe_load(COMPOSE_FILE.read_text()))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def procfile() -> dict[str, list[str]]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {name.strip(): shlex.split(command) for name, command in (line.split(":", 1) for line in lines if line)}


def test_the_stack_has_its_services(services):
    assert {"db", "redis", "web", "worker", "beat", "mailpit"} <= services.keys()
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["mailpit"]["image"].startswith("axllent/mailpit")


def test_app_services_merge_one_anchor():
    # Read the node graph, where `<<: *app` is still visible, not the merged result.
    root = yaml.compose(COMPOSE_FILE.read_text())
    top = {key.value: value for key, value in root.value}
    anchor = top["x-app"]
    service_nodes = {key.value: value for key, value in top["services"].value}
    for name in APP_SERVICES:
        merged = [value for key, value in service_nodes[name].value if key.tag == "tag:yaml.org,2002:merge"]
        assert merged == [anchor], f"{name} does not merge the x-app anchor"


def test_app_services_run_one_image(compose, services):
    app = compose["x-app"]
    assert app["build"] and app["image"]
    for name in APP_SERVICES:
        service = services[name]
        for key in ("build", "image", "env_file"):
            assert service[key] == app[key], f"{name} differs from x-app in {key}"
        for dependency in ("db", "redis"):
            assert service["depends_on"][dependency]["condition"] == "service_healthy"


def test_app_environment_names_are_all_read_by_settings(services):
    known = settings_env_names()
    for name in APP_SERVICES:
        unknown = environment_of(services[name]).keys() - known
        assert not unknown, f"{name} sets variables settings.py never reads: {sorted(unknown)}"


def test_settings_reader_finds_the_core_variables():
    # Guards the AST scan itself: if it silently found nothing, the test above would pass vacuously.
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_URL", "SITE_URL", "ALLOWED_HOSTS"} <= settings_env_names()


def test_database_url_is_the_db_service(services):
    url = environment_of(services["web"])["DATABASE_URL"]
    config = environ.Env.db_url_config(url)
    db_env = environment_of(services["db"])
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"]) == ("db", 5432)
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == (
        db_env["POSTGRES_DB"],
        db_env["POSTGRES_USER"],
        db_env["POSTGRES_PASSWORD"],
    )


def test_redis_url_is_the_redis_service(services):
    url = urlsplit(environment_of(services["web"])["REDIS_URL"])
    assert (url.scheme, url.hostname, url.port or 6379) == ("redis", "redis", 6379)


def test_email_url_is_the_mail_catcher(services):
    config = environ.Env.email_url_config(environment_of(services["web"])["EMAIL_URL"])
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (config["EMAIL_HOST"], config["EMAIL_PORT"]) == ("mailpit", 1025)


@pytest.mark.parametrize(("service", "subcommand"), [("worker", "worker"), ("beat", "beat")])
def test_celery_services_run_the_projects_celery_app(services, service, subcommand):
    argv = argv_of(services[service]["command"])
    assert argv[0] == "celery"
    app_name = option(argv, "-A")
    assert positional_after(argv, app_name) == subcommand
    # Resolve -A exactly as the celery CLI does.
    assert find_app(app_name).main == importlib.import_module("cramptrack.celery").app.main == "cramptrack"


def test_web_migrates_then_serves_the_wsgi_app(services):
    script = shlex.split(services["web"]["command"])[2]
    first_step = shlex.split(script.split("&&")[0])
    assert first_step[:3] == ["python", "manage.py", "migrate"]
    argv = argv_of(services["web"]["command"])
    assert argv[0] == "gunicorn"
    module = importlib.import_module(argv[1])
    assert callable(module.application)
    bound_port = option(argv, "--bind").rsplit(":", 1)[1]
    assert any(str(mapping).endswith(f":{bound_port}") for mapping in services["web"]["ports"])


@pytest.mark.parametrize("process", list(PROCFILE_COMMANDS))
def test_procfile_and_compose_run_the_same_programs(procfile, services, process):
    local = procfile[process]
    local[0] = Path(local[0]).name  # .venv/bin/celery -> celery
    container = argv_of(services[process]["command"])
    assert local[0] == container[0] == PROCFILE_COMMANDS[process]
    if local[0] == "celery":
        assert option(local, "-A") == option(container, "-A")
        assert positional_after(local, option(local, "-A")) == positional_after(container, option(container, "-A"))
    else:
        assert local[1] == container[1]  # the WSGI module


def test_the_procfile_worker_embeds_the_beat_that_compose_runs_on_its_own(procfile, services):
    assert "--beat" in procfile["worker"] and "beat" not in procfile
    assert positional_after(argv_of(services["beat"]["command"]), "cramptrack") == "beat"


def test_env_example_names_are_all_read_by_settings():
    # Commented-out assignments ("# DATABASE_URL=...") are documented variables too.
    text = (ROOT / ".env.example").read_text()
    names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))
    assert "SECRET_KEY" in names
    unread = names - settings_env_names()
    assert not unread, f".env.example lists variables settings.py never reads: {sorted(unread)}"


def test_dockerfile_copies_every_local_app_and_serves_the_same_wsgi_module(services):
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = {Path(line.split()[1]).parts[0] for line in dockerfile.splitlines() if line.startswith("COPY ")}
    local_apps = {app.split(".")[0] for app in settings.INSTALLED_APPS if (ROOT / app.split(".")[0]).is_dir()}
    needed = local_apps | {"cramptrack", "templates", "static", "manage.py", "requirements.lock"}
    assert not needed - copied, f"Dockerfile does not copy {sorted(needed - copied)}"
    cmd = re.search(r"^CMD .*\bgunicorn (\S+)", dockerfile, flags=re.MULTILINE)
    assert cmd and cmd.group(1) == argv_of(services["web"]["command"])[1]


def test_production_and_the_benchmark_give_each_gunicorn_worker_its_own_socket(services):
    """With one shared listening socket, one gthread worker took most kept-alive connections;
    --reuse-port spreads them. The benchmark runs the Dockerfile's own command."""
    from bench.api_mix import gunicorn_argv

    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = re.search(r"^CMD .*\bgunicorn .*", dockerfile, flags=re.MULTILINE)
    assert cmd and "--reuse-port" in cmd.group(0).split()
    assert "--reuse-port" in argv_of(services["web"]["command"])
    bench = gunicorn_argv(8000)
    assert "--reuse-port" in bench
    assert bench[bench.index("--workers") + 1] == "2"
