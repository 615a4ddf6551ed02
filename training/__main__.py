"""``python -m training check-sources|fetch|mine|train|evaluate|export`` (see training/README.md)."""

from training.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
