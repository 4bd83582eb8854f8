"""``dlic dsis plan|serve|export|analyze`` (DSIS sessions, the browser test, screening, MOS) and ``dlic corr`` (metric–MOS accuracy)."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import DlicError
from ..outputs import write_table


def register(subparsers: argparse._SubParsersAction) -> None:
    dsis = subparsers.add_parser("dsis", help="DSIS subjective tests: plan sessions, run them in the browser, analyse raw scores")
    dsis.set_defaults(_group_parser=dsis)
    sub = dsis.add_subparsers(dest="dsis_command", metavar="COMMAND")

    plan = sub.add_parser("plan", help="randomised presentation order split into ≤ 30-minute sessions")
    plan.add_argument("stimuli", help="CSV with a 'stimulus' column (optional: source, codec, rate)")
    plan.add_argument("--training", help="CSV of training pairs (shown at the start of every session)")
    plan.add_argument("--seconds-per-trial", type=float, default=10.0)
    plan.add_argument("--max-session-minutes", type=float, default=30.0)
    plan.add_argument("--break-minutes", type=float, default=5.0)
    plan.add_argument("--subjects", type=int, default=1, help="number of observers, each with an own order")
    plan.add_argument("--seed", type=int, default=0)
    plan.add_argument("--out", help="plan CSV (default: print to stdout)")
    plan.set_defaults(func=_plan)

    ana = sub.add_parser("analyze", help="BT.500 observer screening and MOS with 95 %% confidence intervals")
    ana.add_argument("raw", help="CSV with columns subject, stimulus, score (+ optional source, codec, rate, ...)")
    ana.add_argument("--scale", choices=["5", "100"], help="rating scale to check scores against")
    ana.add_argument("--ci", choices=["t", "normal"], default="t",
                     help="Student-t (default) or BT.500's 1.96·σ/√N interval")
    ana.add_argument("--ddof", type=int, choices=[0, 1], default=1,
                     help="screening SD divisor N-ddof (1: BT.500, 0: as sureal)")
    ana.add_argument("--no-screening", action="store_true", help="keep every observer")
    ana.add_argument("--subject-model", action="store_true",
                     help="also fit the ITU-T P.913 subject bias/inconsistency model")
    ana.add_argument("--out", help="write the MOS table to this CSV")
    ana.add_argument("--json", action="store_true", help="print the result as JSON")
    ana.set_defaults(func=_analyze)

    srv = sub.add_parser("serve", help="run the test in the browser: rater links, votes in SQLite, dashboard")
    srv.add_argument("plan", help="plan CSV from `dlic dsis plan` (one row per trial and subject)")
    srv.add_argument("--stimuli", required=True, help="folder holding every image the plan names")
    srv.add_argument("--db", required=True, help="vote database (SQLite); reopening it resumes the test")
    srv.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    srv.add_argument("--port", type=int, default=8000)
    srv.add_argument("--scale", choices=["5", "100"], default="5",
                     help="5-grade impairment scale (default) or continuous 0-100")
    srv.add_argument("--layout", choices=["sequential", "side-by-side"], default="sequential",
                     help="reference then impaired (DSIS variant I, default) or both side by side")
    srv.add_argument("--time-scale", type=float, default=1.0,
                     help="multiply every plan timing (e.g. 0.2 for a rehearsal)")
    srv.set_defaults(func=_serve)

    exp = sub.add_parser("export", help="the raw votes of a test as the table `dlic dsis analyze` reads")
    exp.add_argument("db", help="vote database written by `dlic dsis serve`")
    exp.add_argument("-o", "--out", required=True, help="raw-vote CSV")
    exp.set_defaults(func=_export)

    corr = subparsers.add_parser("corr", help="PLCC/SROCC/KROCC/RMSE/outlier ratio of metrics against MOS")
    corr.add_argument("--mos", required=True, help="CSV with stimulus, mos and optionally ci95 (half-width)")
    corr.add_argument("--metrics", required=True, help="CSV with stimulus and one column per metric")
    corr.add_argument("--metric", action="append", help="metric column(s) to evaluate (default: all numeric)")
    corr.add_argument("--logistic", choices=["5p", "4p", "none"], default="5p")
    corr.add_argument("--by", action="append", default=[], help="subset column(s), e.g. codec")
    corr.add_argument("--group", action="append", default=[], metavar="NAME=V1,V2",
                      help="named subset of values of the first --by column; repeatable")
    corr.add_argument("--key", default="stimulus", help="column joining the two files (default stimulus)")
    corr.add_argument("--out", help="write the table to this CSV")
    corr.add_argument("--json", action="store_true")
    corr.set_defaults(func=_corr)


def _read_csv(path: str, **kwargs):
    import pandas as pd

    try:
        return pd.read_csv(path, **kwargs)
    except FileNotFoundError:
        raise
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise DlicError(f"cannot read {path} as CSV: {str(exc).splitlines()[0]}") from exc


def _plain(value):
    """JSON-safe Python value (NaN → null, numpy scalars → Python)."""
    from ..subjective.server.summary import json_value

    return json_value(value)


def _records(df) -> list[dict]:
    return [{k: _plain(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


def _plan(args: argparse.Namespace) -> int:
    from ..subjective import plan_sessions

    stimuli = _read_csv(args.stimuli, dtype={"stimulus": str, "source": str})
    training = _read_csv(args.training, dtype={"stimulus": str, "source": str}) if args.training else None
    plan = plan_sessions(
        stimuli, training=training, seconds_per_trial=args.seconds_per_trial,
        max_session_minutes=args.max_session_minutes, break_minutes=args.break_minutes,
        subjects=args.subjects, seed=args.seed,
    )
    if args.out:
        write_table(plan, args.out, inputs=[args.stimuli, args.training], what="plan")
        test = plan[plan["phase"] == "test"]
        n_sessions = int(test["session"].max())
        print(f"plan: {test['stimulus'].nunique()} stimuli × {args.subjects} subject(s) in {n_sessions} "
              f"session(s) → {args.out}")
    else:
        plan.to_csv(sys.stdout, index=False)
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from ..subjective import bt500_screening, mos_table, subject_model_mle

    raw = _read_csv(args.raw, dtype={"subject": str, "stimulus": str})
    rejected: list = []
    screening = None
    if not args.no_screening:
        screening = bt500_screening(raw, ddof=args.ddof, scale=args.scale)
        rejected = screening.rejected
    mos = mos_table(raw, method=args.ci, scale=args.scale, exclude_subjects=rejected)
    if args.out:
        write_table(mos, args.out, inputs=[args.raw], what="MOS table")
    result = {
        "scale": args.scale,
        "n_subjects": int(raw["subject"].nunique()),
        "n_stimuli": int(len(mos)),
        "rejected_subjects": list(rejected),
        "screening": None if screening is None else _records(screening.subjects),
        "ci_method": args.ci,
        "ci_convention": "ci95 is the half-width (interval = mos ± ci95); ci95_width = 2·ci95",
        "mos": [
            {"stimulus": r["stimulus"], "mos": _plain(r["mos"]), "ci95": _plain(r["ci"]),
             "ci95_width": _plain(r["ci_width"]), "std": _plain(r["std"]), "n": int(r["n"])}
            for r in mos.to_dict(orient="records")
        ],
    }
    if args.subject_model:
        model = subject_model_mle(raw[~raw["subject"].isin(rejected)], scale=args.scale)
        result["subject_model"] = {
            "converged": model.converged,
            "stimuli": _records(model.stimuli),
            "subjects": _records(model.subjects),
        }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{result['n_subjects']} subjects, {result['n_stimuli']} stimuli; "
          f"BT.500 rejected: {', '.join(rejected) if rejected else 'none'}")
    if screening is not None:
        print(screening.subjects.to_string(index=False))
    print(mos.to_string(index=False))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from ..subjective.server import open_test, serve

    store = open_test(args.plan, args.stimuli, args.db, scale=args.scale, layout=args.layout)
    serve(store, host=args.host, port=args.port, time_scale=args.time_scale)
    return 0


def _export(args: argparse.Namespace) -> int:
    from ..outputs import write_table
    from ..subjective.server import export_table

    table = export_table(args.db)
    write_table(table, args.out, inputs=[args.db], what="raw-vote table")
    print(f"{len(table)} vote(s) of {table['subject'].nunique()} rater(s) → {args.out}")
    return 0


def _parse_groups(items: list[str]) -> dict[str, list[str]]:
    groups = {}
    for item in items:
        name, sep, values = item.partition("=")
        if not sep or not name or not values:
            raise DlicError(f"--group must look like NAME=V1,V2 (got {item!r})")
        groups[name] = [v.strip() for v in values.split(",") if v.strip()]
    return groups


def _corr(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..stats import performance_table
    from ..subjective.accuracy_inputs import check_accuracy_inputs

    mos = _read_csv(args.mos, dtype={args.key: str})
    metrics = _read_csv(args.metrics, dtype={args.key: str})
    for name, df in (("MOS", mos), ("metrics", metrics)):
        if args.key not in df.columns:
            raise DlicError(f"the {name} file has no {args.key!r} column to join on")
    if "mos" not in mos.columns:
        raise DlicError("the MOS file needs a 'mos' column")
    if "ci95" in mos.columns and "ci" not in mos.columns:
        mos = mos.rename(columns={"ci95": "ci"})
    overlap = [c for c in metrics.columns if c in mos.columns and c != args.key]
    data = mos.merge(metrics.drop(columns=[c for c in overlap if c in ("mos", "ci")]), on=args.key,
                     how="inner", suffixes=("", "_metrics"))
    if data.empty:
        raise DlicError(f"no {args.key} appears in both the MOS and the metrics file")
    reserved = {args.key, "mos", "ci", "ci_width", "ci_low", "ci_high", "std", "n", "confidence", *args.by}
    if args.metric:
        names = args.metric
        absent = [m for m in names if m not in metrics.columns]
        if absent:
            raise DlicError(f"metric column(s) {', '.join(absent)} not in {args.metrics}")
    else:
        names = [c for c in metrics.columns if c not in reserved and pd.api.types.is_numeric_dtype(metrics[c])
                 and c not in ("rate", "bpp")]
        if not names:
            raise DlicError(f"{args.metrics} has no numeric metric column")
    for col in args.by:
        if col not in data.columns:
            raise DlicError(f"subset column {col!r} is in neither file")
    skipped = [c for c in metrics.columns if c not in reserved and c not in names and c not in ("rate", "bpp")]
    if skipped and not args.metric:
        print(f"dlic: warning: column(s) {', '.join(skipped)} of {args.metrics} are not numeric and are skipped "
              "(name one with --metric to see which rows hold text)", file=sys.stderr)
    check_accuracy_inputs(mos, metrics, names, key=args.key, by=args.by, groups=_parse_groups(args.group),
                          mos_name=args.mos, metrics_name=args.metrics)
    table = performance_table(
        data, names, mos="mos", ci="ci" if "ci" in data.columns else None, by=args.by or None,
        groups=_parse_groups(args.group) or None, logistic=None if args.logistic == "none" else args.logistic,
    )
    if args.out:
        write_table(table, args.out, inputs=[args.mos, args.metrics], what="--out table")
    if args.json:
        print(json.dumps(_records(table), indent=2))
    else:
        print(table.to_string(index=False))
    return 0
