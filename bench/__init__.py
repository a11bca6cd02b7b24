"""Benchmarks for gridgov (run each as ``python -m bench.NAME``)."""
