"""The Lingxiao sample and its generators.

The committed files here are what the service loads (``gridgov load data/``).
``generate.py`` writes them; ``street.py`` writes an illustrative street of
communities around them on demand.  Both run as scripts
(``python data/street.py --out DIR``), and the street's is also imported where a
street is wanted at once: ``from data.street import write_street``, by the
command line (``GRIDGOV_SAMPLE=street``), the tests and the benchmarks.  Nothing
here imports another package of ours.
"""
