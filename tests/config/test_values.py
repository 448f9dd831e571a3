"""A refused setting value names what a moderator may type, in their language."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot.features import load_features, locale_folders
from bot.i18n import Catalog
from bot.settings_registry import Choice
from cogs.config._values import Bad, _choice
from cogs.pairing._settings import CADENCE, DAY


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(locale_folders(load_features()))


def refusal(catalog: Catalog, locale: str, kind: Choice, typed: str) -> str:
    ctx = SimpleNamespace(catalog=catalog, t=lambda key, **p: catalog.t(locale, key, **p))
    with pytest.raises(Bad) as refused:
        _choice(ctx, kind, typed)  # type: ignore[arg-type]
    return catalog.t(locale, refused.value.key, **refused.value.params)


@pytest.mark.parametrize(("spec", "typed"), [(CADENCE, "hebdo"), (DAY, "lun")])
def test_a_refused_choice_lists_the_labels_that_are_accepted(catalog, spec, typed):
    """Not "(weekly, biweekly, monthly)": the French labels, which `_choice` reads back."""
    kind = spec.kind
    assert isinstance(kind, Choice)
    for locale in ("fr", "en"):
        text = refusal(catalog, locale, kind, typed)
        labels = [catalog.t(locale, f"{kind.labels}.{v}") for v in kind.values]
        assert f"({', '.join(labels)})" in text, text
        ctx = SimpleNamespace(catalog=catalog, t=None)
        assert [_choice(ctx, kind, label) for label in labels] == list(kind.values)  # type: ignore[arg-type]
    french = refusal(catalog, "fr", kind, typed)
    assert not [v for v in kind.values if f" {v}" in french or f"({v}" in french], french


@pytest.mark.parametrize("locale", ["fr", "en"])
async def test_the_off_word_show_displays_for_a_delay_turns_it_off(config_services, locale):
    """/config show writes a delay of 0 "désactivé" / "off": typed back, it is read as 0, not refused."""
    from cogs.config._context import run
    from cogs.config._settings import set_setting
    from cogs.config._show import show
    from tests.config.conftest import make_caller

    caller = await make_caller(config_services, f"mod-{locale}", locale=locale)
    await run(config_services, caller, set_setting, "feedback.nudge_delay", "0")
    shown_off = config_services.t(locale, "config.values.off")
    assert any(f"{shown_off}" in f.value for f in (await run(config_services, caller, show)).fields)
    for typed in (shown_off, shown_off.upper(), "-"):
        await run(config_services, caller, set_setting, "feedback.nudge_delay", "48h")
        card = await run(config_services, caller, set_setting, "feedback.nudge_delay", typed)
        assert card.fields[0].value.endswith(f"→ {shown_off}"), (typed, card.fields)
