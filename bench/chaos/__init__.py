"""The chaos suite: real herald processes killed and cut off while events flow.

``python -m bench.chaos`` (``make chaos``; ``--quick`` for CI) runs one module per scenario
(workerkill, servekill, storm, burst) and counts, against the ground truth, what was lost,
delivered twice, out of order or re-announced. Any non-zero figure fails the run.
"""
