"""/match's city: typed however (hyphens, accents, case), it is the city members wrote in their profile."""

from __future__ import annotations

from datetime import date

from cogs.matching._team import Candidate, Request, propose
from storage.text import city_key


def test_an_on_site_member_of_saint_etienne_is_in_the_city_typed_saint_etienne() -> None:
    request = Request(slots=(1,), today=date(2026, 11, 26), city_key=city_key("saint etienne"),
                      requester_id=99)
    local = Candidate(member_id=1, trade_ids=frozenset({1}), city_key=city_key("Saint-Étienne"),
                      work_mode="onsite")
    [slot] = propose(request, [local]).slots
    assert slot.chosen is not None and slot.chosen.member_id == 1 and slot.chosen.city, slot.closest
