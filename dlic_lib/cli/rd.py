"""``dlic bd`` (Bjøntegaard deltas of two RD curves) and ``dlic stats fisher-z``."""

from __future__ import annotations

import argparse
import json

from ..errors import DlicError


def register(subparsers: argparse._SubParsersAction) -> None:
    bd = subparsers.add_parser("bd", help="BD-rate and BD-quality of a test RD curve against an anchor")
    bd.add_argument("anchor", help="anchor CSV with columns bpp,<metric>")
    bd.add_argument("test", help="test CSV with columns bpp,<metric>")
    bd.add_argument("--metric", required=True, help="quality column (higher is better), e.g. psnr_y")
    bd.add_argument("--rate-column", default="bpp")
    bd.add_argument("--method", choices=["cubic", "pchip"], default="cubic",
                    help="cubic polynomial (VCEG-M33) or piecewise-cubic pchip")
    bd.add_argument("--json", action="store_true")
    bd.set_defaults(func=_bd)

    stats = subparsers.add_parser("stats", help="statistical tests")
    stats.set_defaults(_group_parser=stats)
    sub = stats.add_subparsers(dest="stats_command", metavar="COMMAND")
    fz = sub.add_parser("fisher-z", help="Fisher-z test of the difference of two independent correlations")
    fz.add_argument("--r1", type=float, required=True)
    fz.add_argument("--n1", type=int, required=True)
    fz.add_argument("--r2", type=float, required=True)
    fz.add_argument("--n2", type=int, required=True)
    fz.add_argument("--two-sided", action="store_true", help="H1: r1 ≠ r2 (default one-sided H1: r1 > r2)")
    fz.add_argument("--json", action="store_true")
    fz.set_defaults(func=_fisher_z)


def _read_curve(path: str, rate: str, metric: str):
    import pandas as pd

    try:
        df = pd.read_csv(path)
    except FileNotFoundError:
        raise
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise DlicError(f"cannot read {path} as CSV: {str(exc).splitlines()[0]}") from exc
    for col in (rate, metric):
        if col not in df.columns:
            raise DlicError(f"{path} has no column {col!r} (columns: {', '.join(map(str, df.columns))})")
    curve = df[[rate, metric]].apply(pd.to_numeric, errors="coerce")
    bad = curve.isna().any(axis=1)
    if bad.any():
        lines = ", ".join(str(i + 2) for i in df.index[bad][:8])
        raise DlicError(f"{path}: {rate}/{metric} is blank or not a number on line(s) {lines}")
    if (curve[rate] <= 0).any():
        lines = ", ".join(str(i + 2) for i in df.index[curve[rate] <= 0][:8])
        raise DlicError(f"{path}: {rate} must be positive (line(s) {lines})")
    return curve


def _bd(args: argparse.Namespace) -> int:
    from ..rd import bd_quality, bd_rate

    if args.metric == args.rate_column:
        raise DlicError(f"--metric {args.metric!r} is the rate column; name a quality column such as psnr_y")
    anchor = _read_curve(args.anchor, args.rate_column, args.metric)
    test = _read_curve(args.test, args.rate_column, args.metric)
    kw = {"metric": args.metric, "rate": args.rate_column, "method": args.method}
    result = {
        "metric": args.metric,
        "method": args.method,
        "bd_rate": bd_rate(anchor, test, **kw),
        "bd_quality": bd_quality(anchor, test, **kw),
        "n_anchor": int(len(anchor)),
        "n_test": int(len(test)),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"BD-rate {result['bd_rate']:+.3f} %  BD-{args.metric} {result['bd_quality']:+.4f}  ({args.method})")
    return 0


def _fisher_z(args: argparse.Namespace) -> int:
    from ..stats import fisher_z_test

    res = fisher_z_test(args.r1, args.n1, args.r2, args.n2, "two-sided" if args.two_sided else "greater")
    out = {"z": res.z, "p": res.p, "alternative": res.alternative}
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"z = {res.z:.4f}, p = {res.p:.4g} ({res.alternative})")
    return 0
