"""Entry point of the warm parent: ``python -m autograder.sandbox.zygote_start FD [torch|notorch]``.

It forks the uid killer first, while this process has imported only the standard
library, then imports the zygote (numpy, and torch unless ``notorch``) and serves.
"""

from __future__ import annotations

import sys

from autograder.sandbox.uidkill import UidKiller


def main(argv: list[str]) -> None:
    killer = UidKiller()
    from autograder.sandbox import zygote

    zygote.main(argv, killer)


if __name__ == "__main__":
    main(sys.argv[1:])
