"""The Discord runtime: the bot, its central error handler, command translation and sync."""
