"""Collectif: a Discord and Slack bot for freelance collectives."""

__version__ = "0.1.0"
