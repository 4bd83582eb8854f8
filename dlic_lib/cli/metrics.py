"""``dlic metrics``: quality metrics of one image pair, or of many pairs listed in a CSV file."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from ..errors import DlicError

_DEFAULT = "psnr_rgb,psnr_y,psnr_ycbcr,ssim,ms_ssim,vif"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "metrics",
        help="image quality metrics of a reference/distorted pair (or many pairs)",
        description=(
            "Compute quality metrics. One pair: dlic metrics REF DIST [--metrics a,b] [--json]. "
            "Many pairs: dlic metrics --pairs pairs.csv --out results.parquet (the CSV needs columns "
            "'reference' and 'distorted'; relative paths are read relative to the CSV's folder)."
        ),
    )
    p.add_argument("reference", nargs="?", help="reference image file")
    p.add_argument("distorted", nargs="?", help="distorted image file")
    p.add_argument("--metrics", default=_DEFAULT, help=f"comma-separated metric names (default: {_DEFAULT})")
    p.add_argument("--json", action="store_true", help="print one JSON object {metric: value}")
    p.add_argument("--pairs", type=Path, help="CSV file with columns reference, distorted")
    p.add_argument("--out", type=Path, help="output table for --pairs (.parquet or .csv)")
    p.add_argument("--device", default=None, help="auto, cpu or cuda[:N] (default: DLIC_DEVICE or auto)")
    p.add_argument("--list", action="store_true", help="list the available metrics and exit")
    p.set_defaults(func=_run, _group_parser=p)


def _run(args: argparse.Namespace) -> int:
    from ..metrics import available_metrics, compute

    if args.list:
        for name, m in sorted(available_metrics().items()):
            print(f"{name:22s} {m.description}")
        return 0
    if args.pairs is not None:
        if args.reference or args.distorted:
            raise DlicError("give either REF DIST or --pairs, not both")
        return _run_pairs(args, compute)
    if not (args.reference and args.distorted):
        raise DlicError("give a reference and a distorted image (dlic metrics REF DIST), or --pairs pairs.csv")
    for f in (args.reference, args.distorted):
        if Path(f).is_dir():
            raise DlicError(f"expected an image file, got a folder: {f}")
        if not Path(f).is_file():
            raise DlicError(f"image file not found: {f}")
    df = compute(args.reference, args.distorted, metrics=args.metrics, device=args.device, progress=False)
    values = {k: _jsonable(v) for k, v in df.iloc[0].items() if k not in ("pair", "reference", "distorted")}
    if args.json:
        print(json.dumps(values))
    else:
        for k, v in values.items():
            print(f"{k:22s} {v}")
    return 0


def _jsonable(v) -> float | str | None:
    v = float(v)
    if math.isnan(v):
        return None
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def read_pairs(path: Path):
    """The pairs table of ``--pairs``: every cell a string, every problem one sentence naming its row.

    Refuses an empty or non-UTF-8 file, a file that is not CSV, missing ``reference`` /
    ``distorted`` columns, no rows, and blank cells (row numbers count data rows from 1; the
    header is line 1 of the file).
    """
    import io

    import pandas as pd

    if path.is_dir():
        raise DlicError(f"pairs file {path} is a folder; give a CSV file")
    if not path.is_file():
        raise DlicError(f"pairs file not found: {path}")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DlicError(f"pairs file {path} is not UTF-8 text (byte {exc.start}, line {line}); save it as UTF-8") from None
    if not text.strip():
        raise DlicError(f"pairs file {path} is empty; it needs a header line 'reference,distorted' and one row per pair")
    try:
        table = pd.read_csv(io.StringIO(text), dtype={"reference": str, "distorted": str}, skip_blank_lines=True)
    except (pd.errors.ParserError, ValueError) as exc:
        raise DlicError(f"pairs file {path} is not a valid CSV: {str(exc).strip().splitlines()[0]}") from None
    table.columns = [str(c).strip() for c in table.columns]
    missing = {"reference", "distorted"} - set(table.columns)
    if missing:
        raise DlicError(f"{path} lacks column(s) {', '.join(sorted(missing))}; it needs 'reference' and 'distorted'")
    if table.empty:
        raise DlicError(f"{path} lists no pairs")
    for column in ("reference", "distorted"):
        table[column] = table[column].fillna("").astype(str).str.strip()
        blank = [i + 1 for i, v in enumerate(table[column]) if not v]
        if blank:
            raise DlicError(f"{path}: blank {column} in row(s) {_rows(blank)}")
    return table


def _rows(rows: list[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:10])
    return shown + (f" and {len(rows) - 10} more" if len(rows) > 10 else "")


def _run_pairs(args: argparse.Namespace, compute) -> int:
    from ..outputs import check_output, write_table

    if args.out is None:
        raise DlicError("--pairs needs --out results.parquet (or .csv)")
    if args.out.suffix.lower() not in (".parquet", ".csv"):
        raise DlicError(f"--out must end in .parquet or .csv, got {args.out.name}")
    table = read_pairs(args.pairs)
    base = args.pairs.parent

    def resolve(p: str, row: int, column: str) -> str:
        path = Path(p)
        path = path if path.is_absolute() else base / path
        if path.is_dir():
            raise DlicError(f"{args.pairs} row {row}: {column} {path} is a folder, not an image file")
        if not path.is_file():
            raise DlicError(f"{args.pairs} row {row}: {column} image file not found: {path}")
        return str(path)

    refs = [resolve(p, i + 1, "reference") for i, p in enumerate(table["reference"])]
    dists = [resolve(p, i + 1, "distorted") for i, p in enumerate(table["distorted"])]
    check_output(args.out, inputs=[args.pairs, *refs, *dists], what="--out table")
    df = compute(refs, dists, metrics=args.metrics, device=args.device, progress=True)
    df["reference"] = list(table["reference"])
    df["distorted"] = list(table["distorted"])
    extra = [c for c in table.columns if c not in ("reference", "distorted") and c not in df.columns]
    for c in extra:
        df[c] = list(table[c])
    write_table(df, args.out, inputs=[args.pairs, *refs, *dists], what="--out table")
    print(f"wrote {len(df)} rows to {args.out}", file=sys.stderr)
    return 0
