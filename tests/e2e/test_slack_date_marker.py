"""Member text carrying the private-use marker that `bot.cards.when()` writes into card text.

`when()` writes "\\ue000<unix>:<style>\\ue001"; the renderers turn such a run into a date. Typed by a
member with a timestamp out of datetime's range, it made rendering raise: one member's city broke
`/members` for everyone. Typed text with the marker is now refused (`bot/text.py`), and a marker
already stored renders as its number. (Found by a hostile review; each test failed before.)
"""

from __future__ import annotations

from cogs.intros._profile import save_profile
from cogs.intros._validation import IntroForm
from tests.e2e.slack_harness import SlackHarness
from tests.e2e.test_intros_slack import configure, open_form, submit, trade_ids
from tests.fakes.callers import make_caller

pytest_plugins = ["tests.e2e.slack_harness"]

HUGE_DATE = "\ue000999999999999:full\ue001"


async def test_an_unknown_subcommand_with_the_date_marker_gets_a_clear_answer(slack: SlackHarness) -> None:
    _, url = await slack.sender.command(f"x{HUGE_DATE}", user_id=slack.member_en)
    post = await slack.fake.wait_for_post(url)
    assert "something went wrong" not in post.text, post.text


async def test_a_bio_with_the_date_marker_is_refused_on_its_field(slack: SlackHarness) -> None:
    view = await open_form(slack, slack.member_fr)
    await configure(slack)
    answer = await submit(slack, slack.member_fr, view["private_metadata"], bio=f"Bonjour {HUGE_DATE}")
    body = answer.json()
    assert body["response_action"] == "errors"
    assert body["errors"]["bio"] == slack.t("fr", "errors.control_characters"), body
    assert slack.fake.calls_to("chat.postMessage") == []  # nothing saved, nothing posted


async def test_one_members_city_breaks_no_directory_search(slack: SlackHarness) -> None:
    await slack.sender.command("help", user_id=slack.member_en)  # the community exists
    await slack.completions.wait(1)
    caller = await make_caller(slack.services, slack.member_fr, platform="slack", guild=slack.fake.team_id)
    async with slack.services.db.transaction() as session:
        form = IntroForm(trade_ids=await trade_ids(slack, "Développement"), skills="WordPress",
                         city=f"Nantes {HUGE_DATE}", bio=f"Bonjour {HUGE_DATE}")
        await save_profile(session, caller, form, slack.services.clock)
    _, url = await slack.sender.command("members", user_id=slack.member_en)
    post = await slack.fake.wait_for_post(url)
    assert "something went wrong" not in post.text, post.text


async def test_another_members_profile_with_the_date_marker_can_be_shown(slack: SlackHarness) -> None:
    await slack.sender.command("help", user_id=slack.member_en)
    await slack.completions.wait(1)
    caller = await make_caller(slack.services, slack.member_fr, platform="slack", guild=slack.fake.team_id)
    async with slack.services.db.transaction() as session:
        form = IntroForm(trade_ids=await trade_ids(slack, "Développement"), bio=f"Bonjour {HUGE_DATE}")
        await save_profile(session, caller, form, slack.services.clock)
    _, url = await slack.sender.command(f"profile <@{slack.member_fr}|camille>", user_id=slack.member_en)
    post = await slack.fake.wait_for_post(url)
    assert "something went wrong" not in post.text, post.text
