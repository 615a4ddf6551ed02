"""``python -m codekin`` (how ``py -3 -m codekin`` and ``python3 -m codekin`` run the CLI)."""

import sys

from codekin.cli import main

if __name__ == "__main__":
    sys.exit(main())
