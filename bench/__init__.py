"""Benchmarks: they print their figures; tests never make timed assertions."""
