"""Features: one package per feature, each with its domain logic and its Discord and Slack bindings."""
