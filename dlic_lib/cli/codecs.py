"""``dlic codecs list``, ``dlic encode`` and ``dlic decode``: the codec zoo from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import DlicError

__all__ = ["register"]


def register(subparsers) -> None:
    group = subparsers.add_parser("codecs", help="list the image codecs (conventional and learned)")
    sub = group.add_subparsers(dest="codecs_command", metavar="SUBCOMMAND")
    group.set_defaults(_group_parser=group)
    ls = sub.add_parser("list", help="every codec, whether it is available here (and why not), library version")
    ls.add_argument("--json", action="store_true", help="print a JSON list of objects")
    ls.set_defaults(func=_list)

    enc = subparsers.add_parser("encode", help="encode an image with one codec (at a quality or a target bpp)")
    enc.add_argument("input", type=Path, help="input image (PNG, ...)")
    enc.add_argument("--codec", required=True, help="codec name (see 'dlic codecs list')")
    how = enc.add_mutually_exclusive_group(required=True)
    how.add_argument("--quality", type=float, help="the codec's rate parameter (quality, QP, CRF, distance, ...)")
    how.add_argument("--bpp", type=float,
                     help="target bits per pixel (searches the rate parameter; HEVC, VVC and AV1 use fine-step modes)")
    enc.add_argument("-o", "--output", type=Path, required=True, help="where to write the stored bytes")
    enc.add_argument("--decoded", type=Path, help="also write the decoded image as PNG")
    enc.add_argument("--tolerance", type=float, default=0.02, help="relative bpp tolerance for --bpp (default 0.02)")
    enc.add_argument("--not-above", action="store_true", help="with --bpp: never exceed the target")
    _add_options(enc)
    enc.add_argument("--json", action="store_true", help="print only the JSON record (it is printed either way)")
    enc.set_defaults(func=_encode)

    dec = subparsers.add_parser("decode", help="decode bytes written by 'dlic encode' to a PNG")
    dec.add_argument("input", type=Path, help="stored bytes")
    dec.add_argument("--codec", required=True, help="codec name used to encode")
    dec.add_argument("--quality", type=int, help="learned codecs: the quality level (model) used to encode")
    dec.add_argument("-o", "--output", type=Path, required=True, help="output PNG")
    _add_options(dec)
    dec.set_defaults(func=_decode)


def _add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-O", "--option", action="append", default=[], metavar="KEY=VALUE",
        help="codec option, e.g. chroma=444, mode=crf, preset=faster, metric=ms-ssim (repeatable)",
    )


def _parse_options(items: list[str]) -> dict:
    out: dict = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise DlicError(f"codec option {item!r} is not KEY=VALUE")
        v: object = value.strip()
        for conv in (int, float):
            try:
                v = conv(value)
                break
            except ValueError:
                continue
        if value.strip().lower() in ("true", "false"):
            v = value.strip().lower() == "true"
        out[key.strip().replace("-", "_")] = v
    return out


def _list(args: argparse.Namespace) -> int:
    from ..codecs import list_codecs

    rows = list_codecs()
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        state = "yes" if r["available"] else f"no ({r['reason']})"
        print(f"{r['name']:<{width}}  {r['kind']:<12}  {r['chroma']:<5}  {r['version'] or '-'}  available: {state}")
    return 0


def _encode(args: argparse.Namespace) -> int:
    from ..codecs import encode_to_bpp, get_codec, targeting_options
    from ..data import read_image, write_png

    options = _parse_options(args.option)
    if args.bpp is not None:  # fine rate parameters (fractional CRF/QP) unless the user set them
        options = targeting_options(args.codec, **options)
    codec = get_codec(args.codec, **options)
    image = read_image(args.input)
    record: dict
    if args.bpp is not None:
        result = encode_to_bpp(image, codec, args.bpp, args.tolerance, not_above=args.not_above)
        coded = result.coded
        record = result.record()
    else:
        coded = codec.encode(image, args.quality)
        record = coded.record()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(args.output.name + ".part")
    tmp.write_bytes(coded.data)
    tmp.replace(args.output)
    if args.decoded is not None:
        write_png(args.decoded, coded.decoded)
    record.update(input=str(args.input), output=str(args.output))
    print(json.dumps(record, default=str, indent=None if args.json else 2))
    return 0


def _decode(args: argparse.Namespace) -> int:
    from ..codecs import get_codec
    from ..data import write_png

    codec = get_codec(args.codec, **_parse_options(args.option))
    codec.require_available()
    if not args.input.is_file():
        raise DlicError(f"input file not found: {args.input}")
    data = args.input.read_bytes()
    if not data:
        raise DlicError(f"input file is empty: {args.input}")
    if codec.kind == "learned":
        image = codec.decode(data, quality=args.quality)
    else:
        image = codec.decode(data)
    write_png(args.output, image)
    print(f"decoded {args.input} ({len(data)} bytes) → {args.output} ({image.shape[1]}×{image.shape[0]})", file=sys.stderr)
    return 0
