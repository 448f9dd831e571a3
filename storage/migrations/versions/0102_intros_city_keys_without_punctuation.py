"""intros: city keys without punctuation

profiles.city_key is now the city's folded words with hyphens and apostrophes as spaces
(storage.text.city_key): "Saint-Étienne" and "saint etienne" are one city in the directory, /match and
/afterworks. The keys stored before are computed again. Frozen here: the rule as it was when written.

Revision ID: 0102
Revises: 0101
Create Date: 2026-12-02 12:00:00
"""

import unicodedata

from alembic import op
import sqlalchemy as sa
from anyascii import anyascii


revision = '0102'
down_revision = '0101'
branch_labels = None
depends_on = None


def _fold(text: str) -> str:
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(
            (anyascii(c) if unicodedata.name(c, "").startswith("LATIN") else c) if ord(c) > 127 else c
            for c in decomposed if not unicodedata.combining(c)
        )
    return " ".join(text.split()).casefold()


def _city_key(city: str) -> str:
    return " ".join("".join(c if c.isalnum() else " " for c in _fold(city[:200])).split())[:100]


def upgrade() -> None:
    table = sa.table('profiles', sa.column('id', sa.Integer), sa.column('city', sa.String),
                     sa.column('city_key', sa.String))
    bind = op.get_bind()
    rows = bind.execute(sa.select(table.c.id, table.c.city, table.c.city_key)).all()
    for row_id, city, key in rows:
        new = _city_key(city or "")
        if new != key:
            bind.execute(table.update().where(table.c.id == row_id).values(city_key=new))


def downgrade() -> None:
    pass  # the keys with punctuation are not needed back: searches then fold as they did
