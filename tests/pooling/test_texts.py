"""The pooling texts a member reads agree with their numbers: plural forms chosen by the right count."""

from __future__ import annotations

import pytest

from bot.errors import UserError
from bot.services import Services
from bot.usecase import run
from cogs.pooling._pools import check_close
from tests.fakes.callers import make_caller
from tests.pooling.test_pooling import create


async def test_closing_before_a_minimum_of_one_is_reached_says_one_person(services: Services) -> None:
    """The organizer is not a participant: a purchase needing 1 person cannot close before anyone joined."""
    alice = await make_caller(services, "U1", name="Alice")
    pid = await create(services, alice, minimum="1")
    with pytest.raises(UserError) as refused:
        await run(services, alice, check_close, pid, write=False)
    assert "(1 personne)" in services.t("fr", refused.value.key, **refused.value.params)
    assert "(1 person)" in services.t("en", refused.value.key, **refused.value.params)


@pytest.mark.parametrize(("count", "fr", "en"), [
    (0, ": 0 personne inscrite à l’échéance, il en fallait 3.", ": 0 people joined by the deadline"),
    (1, ": 1 personne inscrite à l’échéance, il en fallait 3.", ": 1 person joined by the deadline"),
    (2, ": 2 personnes inscrites à l’échéance, il en fallait 3.", ": 2 people joined by the deadline"),
])
def test_a_failed_purchase_counts_who_joined_with_plural_forms(services: Services, count, fr, en) -> None:
    assert fr in services.t("fr", "pooling.dm.failed", title="Figma", count=count, minimum=3)
    assert en in services.t("en", "pooling.dm.failed", title="Figma", count=count, minimum=3)
