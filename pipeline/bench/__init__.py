"""Benchmarks: commands that print figures and ratios (never asserted by tests)."""
