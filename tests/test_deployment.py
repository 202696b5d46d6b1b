"""The deployment files of the scaled-out mode (issue 5): the image installs from the
repository as the README does, and the compose file wires the processes the way
docs/scale-out.md says. Our machines have no Docker daemon and reach no registry, so the
image itself is not built here; what it runs is checked instead: the build context the
Dockerfile copies is enough to build the package (with its migrations and templates),
and every command the compose file runs exists."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent / "launchgate"


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_the_image_installs_the_package_the_way_the_readme_does() -> None:
    readme_install = re.search(r'pip install "\.\[([a-z,]+)\]"', (ROOT / "README.md").read_text())
    assert readme_install is not None
    docker_install = re.search(r'RUN pip install "\.\[([a-z,]+)\]"', _dockerfile())
    assert docker_install is not None
    readme_extras = set(readme_install.group(1).split(","))
    docker_extras = set(docker_install.group(1).split(","))
    assert readme_extras <= docker_extras and docker_extras - readme_extras == {"postgres"}
    assert 'ENTRYPOINT ["launchgate"]' in _dockerfile()
    assert 'CMD ["serve", "--host", "0.0.0.0", "--port", "4001"]' in _dockerfile()


def test_the_files_the_image_copies_are_enough_to_build_the_package(tmp_path: Path) -> None:
    context = tmp_path / "context"
    copied = re.findall(r"^COPY (.+) \S+$", _dockerfile(), flags=re.MULTILINE)
    assert copied
    for line in copied:
        for name in line.split():
            source = ROOT / name
            target = context / name
            if source.is_dir():
                shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(source, target)
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path / "dist"),
            str(context),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("launchgate_eval-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    migrations = {n for n in names if n.startswith("launchgate/migrations/versions/")}
    assert "launchgate/migrations/versions/0004_run_leases.py" in migrations
    assert "launchgate/migrations/alembic.ini" in names or any(
        n.startswith("launchgate/migrations/") and n.endswith("env.py") for n in names
    )


def test_compose_runs_an_api_two_workers_and_a_migration_on_postgres_and_redis() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "api", "worker"}
    for name in ("migrate", "api", "worker"):
        env = services[name]["environment"]
        assert env["LAUNCHGATE_DATABASE_URL"].startswith("postgresql://")
        assert "@postgres:5432/" in env["LAUNCHGATE_DATABASE_URL"]
        assert env["LAUNCHGATE_REDIS_URL"].startswith("redis://redis:6379")
        # Secrets are demanded from the operator, never baked in.
        assert env["LAUNCHGATE_SECRET_KEY"].startswith("${LAUNCHGATE_SECRET_KEY:?")
        assert env["BYOK_ENCRYPTION_KEY"].startswith("${BYOK_ENCRYPTION_KEY:?")
        assert services[name]["build"] == "."
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["worker"]["command"][0] == "worker"
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["api"]["command"][0] == "serve"
    for name in ("api", "worker"):
        assert (
            services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )


def test_every_command_the_compose_file_runs_exists() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name in ("migrate", "api", "worker"):
        command = [c for c in compose["services"][name]["command"] if not c.startswith("-")]
        words = command[:2] if command[0] == "db" else command[:1]
        done = subprocess.run(
            [str(BIN), *words, "--help"], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, (name, done.stderr)
