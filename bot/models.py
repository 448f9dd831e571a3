"""Every feature's tables in one MetaData: what Alembic compares and the privacy checks walk.

`storage/` is the ground floor and knows no feature; the registry lives here, so the assembly does
too. Importing this module imports each registered feature's models module.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from sqlalchemy import MetaData

from bot.features import Feature, load_features
from storage.models import Base

CORE = "core"  # the tables of storage.models, shared by every feature


def models_modules(features: Iterable[Feature] | None = None) -> dict[str, str | None]:
    """Feature name -> its models module (None when it stores nothing), `core` first."""
    registered = load_features() if features is None else features
    return {CORE: "storage.models", **{f.name: f.models for f in registered}}


def load_models(features: Iterable[Feature] | None = None) -> MetaData:
    """Import the models of these features (default: every registered one); their tables join Base."""
    for module in models_modules(features).values():
        if module:
            importlib.import_module(module)
    return Base.metadata


metadata = load_models()
