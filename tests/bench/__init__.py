"""Benchmarks (``make bench``): each figure is measured beside a baseline in the same run, on the same machine,
and reported as a ratio against its target. Every benchmark module runs in a process of its own
(``python -m tests.bench.<name>``) on a database of its own, and prints its results as JSON."""
