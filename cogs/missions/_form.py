"""What the mission form offers (choices, pre-filled values), the same for Discord and Slack."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Catalog
from cogs.config.models import Pack, PackTrade
from cogs.missions._validation import FEES, PLATFORM_PREFIX, PLATFORMS, MissionForm
from cogs.missions.models import WORK_MODES, Mission, MissionTrade
from storage.communities import sectors, trades
from storage.models import Member

Choice = tuple[str, str]  # (value, label)


@dataclass(frozen=True)
class FormChoices:
    trades: tuple[Choice, ...]
    packs: tuple[tuple[str, str, tuple[str, ...]], ...]  # (pack id, name, trade ids)
    sectors: tuple[Choice, ...]
    work_modes: tuple[Choice, ...]
    sources: tuple[Choice, ...]
    fees: tuple[Choice, ...]


@dataclass(frozen=True)
class FormStart:
    choices: FormChoices
    form: MissionForm
    mission_id: int | None = None
    platform_warning: bool = False  # a platform was chosen: some forbid taking their missions elsewhere


def source_choices(catalog: Catalog, locale: str) -> tuple[Choice, ...]:
    t = catalog.t
    platforms = tuple(
        (
            PLATFORM_PREFIX + name,
            t(
                locale,
                "missions.source.platform",
                name=t(locale, "missions.source.other_platform") if name == "other" else name,
            ),
        )
        for name in PLATFORMS
    )
    return (
        ("own", t(locale, "missions.source.own")),
        ("network", t(locale, "missions.source.network")),
        *platforms,
    )


async def choices_for(session: AsyncSession, community_id: int, catalog: Catalog, locale: str) -> FormChoices:
    t = catalog.t
    trade_rows = [(str(tr.id), tr.name) for tr in await trades(session, community_id)]
    sector_rows = [(str(s.id), s.name) for s in await sectors(session, community_id)]
    pack_rows = (
        await session.execute(
            select(Pack.id, Pack.name, PackTrade.trade_id)
            .join(PackTrade, PackTrade.pack_id == Pack.id)
            .where(Pack.community_id == community_id, PackTrade.community_id == community_id)
            .order_by(Pack.position, Pack.id, PackTrade.id)
        )
    ).all()
    packs: dict[int, tuple[str, list[str]]] = {}
    for pack_id, name, trade_id in pack_rows:
        packs.setdefault(pack_id, (name, []))[1].append(str(trade_id))
    return FormChoices(
        trades=tuple(trade_rows),
        packs=tuple((str(pid), name, tuple(ids)) for pid, (name, ids) in packs.items()),
        sectors=tuple(sector_rows),
        work_modes=tuple((m, t(locale, f"missions.work_mode.{m}")) for m in WORK_MODES),
        sources=source_choices(catalog, locale),
        fees=tuple((str(f), t(locale, "missions.form.fee_none") if f == 0 else f"{f} %") for f in FEES),
    )


async def form_from_mission(session: AsyncSession, mission: Mission) -> MissionForm:
    trade_ids = await session.scalars(
        select(MissionTrade.trade_id)
        .where(MissionTrade.community_id == mission.community_id, MissionTrade.mission_id == mission.id)
        .order_by(MissionTrade.position)
    )
    behalf = ""
    if mission.brought_by_member_id is not None:
        behalf = (
            await session.scalar(
                select(Member.platform_user_id).where(
                    Member.community_id == mission.community_id, Member.id == mission.brought_by_member_id
                )
            )
            or ""
        )
    source = mission.source
    if source == "platform":
        source = PLATFORM_PREFIX + (mission.platform_name or "other")
    return MissionForm(
        trade_ids=[str(t) for t in trade_ids],
        title=mission.title,
        description=mission.description,
        skills=", ".join(label for _, label in mission.skills or ()),
        budget=form_budget(mission),
        link=mission.link,
        start_date=mission.start_date.isoformat() if mission.start_date else "",
        duration=mission.duration,
        work_mode=mission.work_mode,
        city=mission.city,
        sector_id=str(mission.sector_id) if mission.sector_id else "",
        answer_by=mission.answer_by.isoformat(),
        source=source,
        fee=str(mission.referral_fee or ""),
        client_name=mission.client_name,
        behalf=behalf,
    )


def form_budget(mission: Mission) -> str:
    """The budget as the form reads it back (parse_budget): a daily one says so ("/j"), a range or not."""
    if mission.budget_kind == "discuss" or mission.budget_min is None:
        return ""
    high = mission.budget_max or mission.budget_min
    amount = f"{mission.budget_min}" if mission.budget_min == high else f"{mission.budget_min}-{high}"
    return f"{amount} {mission.currency}" + ("/j" if mission.budget_kind == "daily" else "")


PACK_PREFIX = "pack:"


def expand_packs(values: list[str], choices: FormChoices) -> list[str]:
    """Trade ids chosen, a chosen pack standing for its trades (order kept, duplicates dropped)."""
    packs = {pack_id: ids for pack_id, _, ids in choices.packs}
    found: list[str] = []
    for value in values:
        if value.startswith(PACK_PREFIX):
            found.extend(packs.get(value[len(PACK_PREFIX) :], ()))
        else:
            found.append(value)
    return list(dict.fromkeys(found))
