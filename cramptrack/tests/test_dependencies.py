"""The two locks: requirements.lock is all production installs (the Docker image), and
requirements-dev.lock adds tests and tooling on top of exactly the same versions."""

import ast
import re
from importlib.metadata import packages_distributions
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(\S+)", flags=re.MULTILINE)


def name(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def pins(filename: str) -> dict[str, str]:
    return {name(match[1]): match[2] for match in PIN.finditer((ROOT / filename).read_text())}


def production_sources() -> list[Path]:
    """The Python files the Dockerfile copies into the image, less the tests."""
    copied = [line.split()[1:-1] for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("COPY ")]
    paths = [ROOT / source for sources in copied for source in sources]
    files = [p for path in paths for p in ([path] if path.is_file() else path.rglob("*.py")) if p.suffix == ".py"]
    return [f for f in files if "tests" not in f.relative_to(ROOT).parts]


def test_the_dev_lock_holds_the_runtime_lock_at_the_same_versions():
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert runtime and "django" in runtime
    assert {package: dev.get(package) for package in runtime} == runtime


def test_every_pinned_requirement_is_locked_at_its_pin():
    # Fails when requirements*.txt changed without `make lock`.
    for source, lock in (("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")):
        wanted, locked = pins(source), pins(lock)
        assert wanted
        assert {package: locked.get(package) for package in wanted} == wanted, f"{source} vs {lock}"


def test_production_installs_no_test_tool():
    runtime = pins("requirements.lock")
    for tool in ("pytest", "pytest-django", "playwright", "aiosmtpd", "pypdf", "ruff", "mypy", "fhir-resources"):
        assert tool in pins("requirements-dev.lock") and tool not in runtime, tool


def test_production_code_imports_only_what_the_runtime_lock_installs():
    """Every import, at the top or inside a function, of the code that goes into the image."""
    dev_only = pins("requirements-dev.lock").keys() - pins("requirements.lock").keys()
    dev_only_modules = {
        module for module, dists in packages_distributions().items() if all(name(d) in dev_only for d in dists)
    }
    assert {"pytest", "fhir", "pydantic"} <= dev_only_modules
    sources = production_sources()
    assert ROOT / "sharing" / "fhir.py" in sources and ROOT / "manage.py" in sources
    offending = {}
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                if module.split(".")[0] in dev_only_modules:
                    offending.setdefault(str(path.relative_to(ROOT)), []).append(module)
    assert not offending, f"production code imports packages only requirements-dev.lock installs: {offending}"
