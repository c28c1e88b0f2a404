"""`lastmile generate`: write deterministic sample logs (and their lastmile.toml)."""

import sys
from pathlib import Path

from analytics.cli import add_common
from analytics.errors import LastmileError


def add_parser(sub):
    # lazy: the sample generator (numpy, polars) loads only for `generate` itself
    from analytics.sample import DEFAULT_ROWS

    p = sub.add_parser("generate", help="write deterministic sample logs and their lastmile.toml")
    add_common(p, formats=False)
    p.add_argument("--rows", type=int, default=DEFAULT_ROWS, help=f"total predictions (default {DEFAULT_ROWS:,})")
    p.add_argument("--out", default="lastmile-sample", help="output folder (default ./lastmile-sample)")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    return p


def run(args, ctx) -> int:
    from analytics.sample import generate  # lazy, as above

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise LastmileError(f"--out {str(out)!r} exists and is not a folder.")
    toml = generate(out, rows=args.rows, seed=args.seed,
                    progress=lambda msg: sys.stderr.write(msg.rstrip() + "\n"))
    ctx.out(f"Wrote sample logs and {toml}; try: lastmile validate --config {toml}")
    return 0
