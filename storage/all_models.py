"""Imports every feature's models so that Alembic and the privacy checks see all tables."""

import importlib

from bot.features import load_features
from storage.models import Base

for _feature in load_features():
    if _feature.models:
        importlib.import_module(_feature.models)

metadata = Base.metadata
