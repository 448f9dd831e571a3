"""The deployment kit agrees with the code: exit codes, secrets, pinned dependencies, image settings."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from bot import startup
from bot.config import Secrets

ROOT = Path(__file__).resolve().parents[1]


def _read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def test_the_service_restarts_on_a_crash_but_not_on_a_start_up_failure() -> None:
    unit = _read("deploy/collectif.service")
    settings = dict(re.findall(r"^(\w+)=(.*)$", unit, flags=re.MULTILINE))

    assert settings["Restart"] == "on-failure"
    prevented = {int(code) for code in settings["RestartPreventExitStatus"].split()}
    refusals = {startup.CONFIG, startup.DISCORD_TOKEN, startup.SLACK_TOKEN, startup.UNREACHABLE,
                startup.DATABASE}
    assert prevented == refusals
    assert startup.CRASHED not in prevented
    assert settings["ExecStart"].split()[1] == "run"
    assert settings["User"] != "root"


def test_env_example_lists_every_secret_with_where_to_find_it() -> None:
    lines = _read(".env.example").splitlines()
    names = {line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z_]+=", line)}

    assert {name.upper() for name in Secrets.model_fields} | {"POSTGRES_PASSWORD"} <= names
    for name in names:
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{name}="))
        assert lines[index - 1].startswith("#"), f"{name} has no comment saying where to find it"
        assert lines[index] == f"{name}=", f"{name} must be empty in the example"
    ignored = _read(".gitignore").splitlines()
    assert ".env" in ignored
    assert ".env" in _read(".dockerignore").splitlines()


def test_every_secret_is_named_where_the_settings_say_secrets_come_from() -> None:
    from bot.cli import _SETTINGS

    header = _read("config.example.toml").split("\n[", 1)[0]
    for name in (name.upper() for name in Secrets.model_fields):
        assert name in header, f"config.example.toml's header does not name {name}"
        assert name in _SETTINGS, f"`collectif --help` does not name {name}"


def test_env_example_commented_lines_show_a_whole_value() -> None:
    # Uncommented as it stands, an empty COLLECTIF_DATABASE__URL= is refused (exit 2): show a value.
    for line in _read(".env.example").splitlines():
        if match := re.match(r"^# ?([A-Z_]+)=(.*)$", line):
            assert match[2].strip(), f"{match[1]} is commented out without an example value"


@pytest.mark.parametrize("path", [
    "collectif.db.before-restore-20261201-031500",  # bot/ops/backup.py restore(): a whole copy of the data
    "collectif-2026-12-01.dump",  # README "Backups": the compose pg_dump example writes it here
    "backups/collectif-20261201-031500.dump",  # `collectif db backup` on PostgreSQL
    "backups/collectif-before-my-experiment.db",
    "collectif.db.lock",  # bot/ops/backup.py running()
])
def test_files_collectif_writes_beside_the_database_are_git_ignored(path: str) -> None:
    # The README runs the bot from a copy of this repository: `git add .` must not take members' data.
    done = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT, check=False,
                          capture_output=True)
    if done.returncode == 128 and b"not a git repository" in done.stderr:
        pytest.skip("not a git checkout (an archive of the sources)")
    assert done.returncode == 0, f"{path} is not git-ignored"


def test_the_service_says_how_to_allow_a_backup_folder_outside_its_state_directory() -> None:
    # ProtectSystem=strict: /var/backups/collectif (config.example.toml's backup.dir) is read-only.
    unit = _read("deploy/collectif.service")
    assert "ProtectSystem=strict" in unit
    assert re.search(r"^# ReadWritePaths=/var/backups/collectif$", unit, flags=re.MULTILINE)
    assert "ReadWritePaths=/var/backups/collectif" in _read("config.example.toml")


def test_compose_and_image_use_the_database_volume_and_the_health_check() -> None:
    dockerfile = _read("Dockerfile")
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert re.search(r"^USER collectif", dockerfile, flags=re.MULTILINE)
    assert 'VOLUME ["/data"]' in dockerfile
    assert 'HEALTHCHECK' in dockerfile and 'CMD ["collectif", "health"]' in dockerfile
    # The health check asks /healthz, which the image serves on its ops port.
    assert 'COLLECTIF_OPS__HTTP_PORT="8080"' in dockerfile and "EXPOSE 3000 8080" in dockerfile
    assert "-c constraints.txt" in dockerfile
    compose = _read("compose.yaml")
    assert "postgresql+asyncpg://collectif:${POSTGRES_PASSWORD" in compose
    assert 'command: ["db", "upgrade"]' in compose
    assert "service_completed_successfully" in compose
    assert re.search(r"^volumes:\n  collectif-data:\n  postgres-data:", compose, flags=re.MULTILINE)


def test_constraints_pin_every_dependency_within_pyproject() -> None:
    project = tomllib.loads(_read("pyproject.toml"))["project"]
    pins: dict[str, str] = {}
    for line in _read("constraints.txt").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not pinned: {line}"
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    wanted = [*project["dependencies"], *(d for extra in project["optional-dependencies"].values()
                                          for d in extra)]
    for text in wanted:
        requirement = Requirement(text)
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        assert name in pins, f"{requirement.name} is not in constraints.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), (text, pins[name])


def test_the_example_config_documents_every_setting() -> None:
    from bot.config import Settings

    example = tomllib.loads(_read("config.example.toml"))
    text = _read("config.example.toml")
    for section, field in Settings.model_fields.items():
        assert section in example, f"[{section}] missing from config.example.toml"
        assert field.annotation is not None
        for key in field.annotation.model_fields:  # type: ignore[union-attr]
            assert re.search(rf"^#? ?{key} = ", text, flags=re.MULTILINE), f"{section}.{key} undocumented"


def test_the_scaled_compose_runs_every_shard_once_on_the_same_database() -> None:
    scaled = _read("deploy/compose.scale.yaml")
    counts = set(re.findall(r'COLLECTIF_DISCORD__SHARD_COUNT: "(\d+)"', scaled))
    shards = [int(s) for ids in re.findall(r'COLLECTIF_DISCORD__SHARD_IDS: "\[([0-9, ]+)\]"', scaled)
              for s in ids.split(",")]
    assert len(counts) == 1
    assert sorted(shards) == list(range(int(counts.pop())))  # each shard in exactly one process
    assert scaled.count('COLLECTIF_SLACK__MODE: "http"') == 2
    assert "@db:5432/collectif" in scaled and "service_completed_successfully" in scaled


def test_license_matches_pyproject() -> None:
    project = tomllib.loads(_read("pyproject.toml"))["project"]
    assert project["license"] == "MIT"
    assert _read("LICENSE").startswith("MIT License\n")
