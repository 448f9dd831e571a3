"""Slack's file upload failing while /collectif privacy export sends the member's data (failed before)."""

from __future__ import annotations

from tests.e2e.slack_harness import SlackHarness
from tests.e2e.test_privacy_slack import introduce
from tests.fakes.slack_api import visible_text

pytest_plugins = ["tests.e2e.slack_harness"]


async def test_an_export_whose_file_upload_fails_is_not_announced_without_its_file(
    slack: SlackHarness,
) -> None:
    await introduce(slack)
    slack.fake.errors["files.completeUploadExternal"] = "internal_error"
    done = slack.completions.count
    _, url = await slack.sender.command("confidentialite exporter", user_id=slack.member_fr)
    await slack.completions.wait(done + 1, within=8)
    reply = await slack.fake.wait_for_post(url)
    dm = [visible_text(m) for (c, _), m in slack.fake.messages.items() if c == f"D{slack.member_fr}"]
    # Either the member is told plainly that the export could not be sent (and no DM claims a file),
    # or the file is there: never a DM announcing a file that never came, beside an error id.
    announced = slack.t("fr", "privacy.export.text")
    assert not (any(announced in text for text in dm) and slack.fake.shared_files == []), (dm, reply.text)
    assert reply.text == slack.t("fr", "privacy.export.failed")
