"""Synthetic landing data for demos, tests and benchmarks (`siyu generate`); not production code."""
