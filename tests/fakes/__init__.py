"""Fakes of the platforms' APIs on 127.0.0.1 (port 0), driven by end-to-end tests and benchmarks."""
