"""Command line: ``python -m ketanb data [FOLDER] [--n N] [--seed S] [--favorable-share F]``.

Writes a synthetic extract (``make data`` rewrites the shipped one byte for
byte; other seeds and response rates make further synthetic clinics for the
pooling demonstration).
"""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    from .synthetic import SEED, generate_extract, write_extract

    parser = argparse.ArgumentParser(prog="python -m ketanb")
    sub = parser.add_subparsers(dest="command", required=True)
    data = sub.add_parser("data", help="write a synthetic extract")
    data.add_argument("folder", nargs="?", default="data/raw")
    data.add_argument("--n", type=int, default=74, help="patients (74: the published counts)")
    data.add_argument("--seed", type=int, default=SEED)
    data.add_argument("--favorable-share", type=float, default=None,
                      help="share of included patients with a favorable outcome (default: as published)")
    args = parser.parse_args(argv)
    frames = generate_extract(args.n, args.seed, favorable_share=args.favorable_share)
    write_extract(frames, args.folder, n_patients=args.n, seed=args.seed, favorable_share=args.favorable_share)
    return 0


if __name__ == "__main__":
    sys.exit(main())
