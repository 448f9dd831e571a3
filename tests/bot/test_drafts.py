"""The runtime's form drafts: copies, 15 minutes, bounded, forgotten on a privacy delete."""

from datetime import timedelta

from bot.clock import FrozenClock
from bot.drafts import Drafts
from cogs.intros._validation import IntroForm


def test_drafts_expire_after_15_minutes(clock: FrozenClock) -> None:
    drafts = Drafts(clock)
    drafts.put("intro", 1, 2, IntroForm(city="Lyon"))
    copy = drafts.get("intro", 1, 2, IntroForm)
    assert copy is not None and copy.city == "Lyon"
    copy.city = "changed"  # a copy: nothing changes until put() again
    assert drafts.get("intro", 1, 2, IntroForm).city == "Lyon"  # type: ignore[union-attr]
    assert drafts.get("intro", 1, 3, IntroForm) is None
    assert drafts.get("mission", 1, 2, IntroForm) is None  # one draft per form
    clock.advance(timedelta(minutes=15))
    assert drafts.get("intro", 1, 2, IntroForm) is None
    assert len(drafts) == 0


def test_drafts_are_bounded(clock: FrozenClock) -> None:
    drafts = Drafts(clock, max_entries=3)
    for member in range(5):
        drafts.put("intro", 1, member, IntroForm())
    assert len(drafts) == 3
    assert drafts.get("intro", 1, 0, IntroForm) is None
    assert drafts.get("intro", 1, 4, IntroForm) is not None


def test_a_privacy_delete_forgets_every_form_of_the_member_only(clock: FrozenClock) -> None:
    drafts = Drafts(clock)
    drafts.put("intro", 1, 2, IntroForm(bio="secret"))
    drafts.put("mission", 1, 2, IntroForm())
    drafts.put("intro", 1, 3, IntroForm())
    drafts.put("intro", 9, 2, IntroForm())  # the same member id in another community
    drafts.forget_member(1, 2)
    assert drafts.get("intro", 1, 2, IntroForm) is None and drafts.get("mission", 1, 2, IntroForm) is None
    assert drafts.get("intro", 1, 3, IntroForm) is not None
    assert drafts.get("intro", 9, 2, IntroForm) is not None
