"""The PostgreSQL suite list CI builds from the feature registry."""

from __future__ import annotations

from tests.suites import ROOT, postgres_suites


def test_every_feature_with_tests_is_run_on_postgresql() -> None:
    suites = postgres_suites()
    assert {"tests/intros", "tests/directory", "tests/privacy", "tests/config"} <= set(suites)
    assert "tests/test_tenant_isolation.py" in suites
    assert all((ROOT / suite).exists() for suite in suites)
