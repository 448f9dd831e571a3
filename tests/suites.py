"""The suites CI runs a second time on PostgreSQL: every registered feature's tests, plus cross-cutting ones.

`python -m tests.suites` prints one path a line (.ci/run reads them). A feature's suite is
tests/<name>/ (the `name` of its FEATURE in bot/features.py), when it exists.
"""

from __future__ import annotations

from pathlib import Path

from bot.features import load_features

ROOT = Path(__file__).resolve().parent.parent
# Checks across features that touch the database on every dialect.
CROSS_CUTTING = ("tests/test_tenant_isolation.py",)


def postgres_suites(root: Path = ROOT) -> list[str]:
    features = [f"tests/{f.name}" for f in load_features() if (root / "tests" / f.name).is_dir()]
    return [*features, *CROSS_CUTTING]


if __name__ == "__main__":
    print("\n".join(postgres_suites()))
