"""pitstop's benchmarks: reset, flows, chat delivery, parallel scaling and the embedded stack.

Run ``python -m benchmarks [--json PATH] [--only PART]`` (or ``make bench``) from the
project root. Benchmarks measure; they assert nothing about time.
"""
