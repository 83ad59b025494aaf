"""Command line: ``python -m ketanb data|assemble ...`` (the Makefile calls these)."""
from __future__ import annotations

import argparse
import sys

from .errors import KetanbError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ketanb")
    sub = parser.add_subparsers(dest="command", required=True)
    data = sub.add_parser("data", help="write the synthetic extract")
    data.add_argument("folder", nargs="?", default="data/raw")
    data.add_argument("--n", type=int, default=74)
    data.add_argument("--seed", type=int, default=None)
    asm = sub.add_parser("assemble", help="merge results/<section>.json into results/results.json")
    asm.add_argument("folder", nargs="?", default="results")
    args = parser.parse_args(argv)
    try:
        if args.command == "data":
            from .synthetic import SEED, generate_extract, write_extract

            seed = SEED if args.seed is None else args.seed
            write_extract(generate_extract(args.n, seed), args.folder, n_patients=args.n, seed=seed)
        else:
            from .assemble import assemble

            assemble(args.folder)
    except KetanbError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
