"""Benchmarks: scripts that print numbers and write them to ``bench/results/`` (see README.md)."""
