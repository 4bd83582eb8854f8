"""``dlic data list|fetch|verify``: the datasets of the data manifest."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("data", help="list, fetch and verify the datasets of the manifest")
    p.set_defaults(_group_parser=p)
    sub = p.add_subparsers(dest="data_command", metavar="ACTION")

    ls = sub.add_parser("list", help="the datasets and where each would come from")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(func=_list)

    fetch = sub.add_parser("fetch", help="make datasets available (cache → mirror → download → embedded default)")
    fetch.add_argument("names", nargs="*", metavar="NAME")
    fetch.add_argument("--all", action="store_true", help="every redistributable dataset")
    fetch.add_argument("--no-embedded", action="store_true", help="fail instead of falling back to the embedded default")
    fetch.add_argument("--keep-going", action="store_true",
                       help="report an unavailable dataset and go on with the others (exit 0)")
    fetch.set_defaults(func=_fetch)

    verify = sub.add_parser("verify", help="check the sha256 of every local file against the manifest")
    verify.add_argument("names", nargs="*", metavar="NAME")
    verify.set_defaults(func=_verify)


def _names(args: argparse.Namespace, manifest) -> list[str]:
    from ..errors import DlicError

    if getattr(args, "all", False) or not args.names:
        if not getattr(args, "all", True) and not args.names:
            raise DlicError("name a dataset (see `dlic data list`) or pass --all")
        return [n for n, d in manifest.datasets.items() if not d.user_provided]
    for name in args.names:
        manifest.dataset(name)
    return list(args.names)


def _list(args: argparse.Namespace) -> int:
    import json

    from ..data import load_manifest, verify_dataset

    manifest = load_manifest()
    rows = []
    for name, spec in manifest.datasets.items():
        status = verify_dataset(name, manifest=manifest) if spec.files else []
        present = sum(1 for _, s in status if s == "ok")
        rows.append({"name": name, "title": spec.title, "kind": spec.kind, "files": len(spec.files),
                     "present": present, "license": spec.license, "role": spec.role})
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['name']:<22} {r['present']:>3}/{r['files']:<3} {r['kind']:<10} {r['title']}")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from ..data import load_manifest, resolve_dataset
    from ..errors import DatasetUnavailableError

    manifest = load_manifest()
    for name in _names(args, manifest):
        try:
            ds = resolve_dataset(name, allow_embedded=not args.no_embedded, manifest=manifest)
        except DatasetUnavailableError as exc:
            if not args.keep_going:
                raise
            print(f"{name}: UNAVAILABLE — {exc}")
            continue
        flag = "  [EMBEDDED DEFAULT]" if ds.embedded else ""
        print(f"{name}: {len(ds.paths)} files from {ds.source}{flag}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from ..data import load_manifest, verify_dataset

    manifest = load_manifest()
    bad = 0
    for name in _names(args, manifest):
        rows = verify_dataset(name, manifest=manifest)
        ok = sum(s == "ok" for _, s in rows)
        missing = sum(s == "missing" for _, s in rows)
        mism = [p for p, s in rows if s == "MISMATCH"]
        bad += len(mism)
        print(f"{name}: {ok} ok, {missing} missing, {len(mism)} mismatched")
        for p in mism:
            print(f"  MISMATCH {p}")
    return 1 if bad else 0
