"""Benchmarks for edreflect-edfi (`make bench` = `python -m bench`); not tests.

Each measurement runs in its own child process (`bench._child`) so that its peak memory can be sampled
and one stage's caches or leaks cannot flatter the next one. Results go to `bench/results/` (git-ignored).
"""
