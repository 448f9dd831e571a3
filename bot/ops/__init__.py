"""Operations: health and metrics (bot.ops.server, bot.ops.metrics), backups (bot.ops.backup)."""
