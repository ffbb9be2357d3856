"""herald's benchmark suite: one entry point (``python -m bench``), one module per scenario.

Every scenario appends its figures to ``bench/results/<scenario>.jsonl``; ``bench.report``
turns the latest of them into ``docs/benchmarks.md`` and the plots in ``docs/img/``.
"""
