"""The Slack runtime: a Bolt app built from Services, its router, error handler, manifest and runtime."""
