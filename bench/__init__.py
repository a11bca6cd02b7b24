"""Benchmarks for gridgov.

Run them all with ``python -m bench --quick`` (as CI does), one with
``python -m bench.NAME``; see ``bench/README.md``.
"""
