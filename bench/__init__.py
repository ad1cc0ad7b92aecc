"""Benchmarks: each module's `run()` returns a table comparing Skywatch with a baseline."""
