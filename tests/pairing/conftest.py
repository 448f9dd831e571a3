"""Pairing test fixtures: the Slack ones of the end-to-end tests, for the Slack command's own tests."""

from tests.e2e.slack_harness import fake_slack, slack, slack_services  # noqa: F401  (Slack fixtures)
