"""The process that runs an org job, started by :func:`codekin.org.command.run_in_driver`
(which imports ``ray`` before this module: see there why)."""

import argparse
import logging
import os
import sys

from codekin.org.command import add_parser, run


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    parser = argparse.ArgumentParser(prog="codekin")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="codekin: %(levelname)s %(message)s")
    try:
        return run(args)
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"codekin: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a store or cluster failure (their clients raise many types)
        logging.getLogger("codekin").debug("org job failed", exc_info=True)
        print(f"codekin: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("codekin: interrupted; the next run resumes from the files already stored", file=sys.stderr)
        return 130
