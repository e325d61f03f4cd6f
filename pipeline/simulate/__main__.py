"""`python -m pipeline.simulate` runs the same command as `wardstream simulate`."""

from __future__ import annotations

import argparse
import sys

from pipeline.simulate.command import add_arguments, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wardstream simulate",
                                     description="Generate a synthetic platform.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
