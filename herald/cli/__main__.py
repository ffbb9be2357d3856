"""``python -m herald.cli``: the same commands as the ``herald`` console script."""

from herald.cli import main

main()
