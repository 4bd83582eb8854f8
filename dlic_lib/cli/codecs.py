"""``dlic codecs list``, ``dlic encode`` and ``dlic decode``: the codec zoo from the command line."""

from __future__ import annotations

import argparse
import json
import math
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
    how = enc.add_mutually_exclusive_group()  # one of them, unless --checkpoint fixes the rate
    how.add_argument("--quality", type=float, help="the codec's rate parameter (quality, QP, CRF, distance, ...)")
    how.add_argument("--bpp", type=float,
                     help="target bits per pixel (searches the rate parameter; HEVC, VVC and AV1 use fine-step modes)")
    enc.add_argument("-o", "--output", type=Path, required=True, help="where to write the stored bytes")
    enc.add_argument("--checkpoint", type=Path, help="learned codecs: a release file of trained weights (its rate is the release's)")
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
    dec.add_argument("--checkpoint", type=Path, help="learned codecs: the release file the bytes were coded with")
    _add_options(dec)
    dec.set_defaults(func=_decode)


def _add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-O", "--option", action="append", default=[], metavar="KEY=VALUE",
        help="codec option, e.g. chroma=444, mode=crf, preset=faster, metric=ms-ssim (repeatable)",
    )


_TYPES = (("bool", bool), ("int", int), ("float", float))  # bool first: a bool is also an int


def _option_types(codec: str) -> dict[str, str]:
    """The options a codec's constructor takes, with the type each one expects."""
    import inspect

    from ..codecs.learned import LEARNED_ARCHITECTURES, LearnedCodec
    from ..codecs.registry import CONVENTIONAL_CODECS

    key = str(codec).strip().lower()
    cls = CONVENTIONAL_CODECS.get(key) or (LearnedCodec if key in LEARNED_ARCHITECTURES else None)
    if cls is None:
        return {}
    types = {}
    for name, param in list(inspect.signature(cls.__init__).parameters.items())[1:]:
        if name in ("arch", "model") or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        default, note = param.default, str(param.annotation)
        kind = next((t for t, cls in _TYPES if isinstance(default, cls) or t in note), "str")
        types[name] = kind
    return types


def _parse_options(items: list[str], codec: str) -> dict:
    """``KEY=VALUE`` strings → keyword options, each typed as the codec's constructor expects.

    Values are converted by the option's declared type (``chroma=444`` stays the string the
    codec compares; ``cpu_used=4`` becomes a whole number), never guessed from their look.
    """
    types = _option_types(codec)
    out: dict = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip().replace("-", "_"), value.strip()
        if not sep or not key:
            raise DlicError(f"codec option {item!r} is not KEY=VALUE")
        if types and key not in types:
            raise DlicError(f"codec {codec!r} has no option {key!r}; its options: {', '.join(types) or 'none'}")
        kind = types.get(key, "str")
        try:
            if kind == "bool":
                if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                out[key] = value.lower() in ("true", "1", "yes")
            elif kind == "int":
                number = float(value)
                if number != int(number):
                    raise ValueError
                out[key] = int(number)
            elif kind == "float":
                out[key] = float(value)
            else:
                out[key] = value
        except (ValueError, OverflowError):
            raise DlicError(f"codec option {key} must be a {'whole number' if kind == 'int' else kind}, got {value!r}") from None
    return out


def _with_checkpoint(options: dict, args: argparse.Namespace) -> dict:
    """``--checkpoint PATH`` as the codec option ``checkpoint`` (for codecs that take one)."""
    if args.checkpoint is not None:
        options["checkpoint"] = str(args.checkpoint)
    return options


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
    from ..outputs import atomic_paths, check_output

    options = _with_checkpoint(_parse_options(args.option, args.codec), args)
    if args.quality is None and args.bpp is None and args.checkpoint is None:
        raise DlicError("one of --quality or --bpp is required (or --checkpoint, for a learned codec's release)")
    if args.bpp is not None:  # fine rate parameters (fractional CRF/QP) unless the user set them
        options = targeting_options(args.codec, **options)
        if not (args.bpp > 0 and math.isfinite(args.bpp)):
            raise DlicError(f"--bpp must be a positive number, got {args.bpp:g}")
        if not (0 < args.tolerance < 1):
            raise DlicError(f"--tolerance must be between 0 and 1, got {args.tolerance:g}")
    codec = get_codec(args.codec, **options)
    targets = [args.output] + ([args.decoded] if args.decoded is not None else [])
    for target in targets:  # refuse a bad output before the (long) encoding
        check_output(target, inputs=[args.input])
    image = read_image(args.input)
    record: dict
    if args.bpp is not None:
        result = encode_to_bpp(image, codec, args.bpp, args.tolerance, not_above=args.not_above)
        coded = result.coded
        record = result.record()
        if not result.within_tolerance:
            print(f"dlic: warning: {args.codec} cannot reach {args.bpp:g} bpp within {args.tolerance:.0%} on "
                  f"{args.input}; closest: {coded.bpp:.4g} bpp", file=sys.stderr)
    else:
        coded = codec.encode(image, args.quality)
        record = coded.record()
    with atomic_paths(targets, inputs=[args.input]) as temps:
        temps[0].write_bytes(coded.data)
        if args.decoded is not None:
            write_png(temps[1], coded.decoded)
    record.update(input=str(args.input), output=str(args.output))
    print(json.dumps(record, default=str, indent=None if args.json else 2))
    return 0


def _decode(args: argparse.Namespace) -> int:
    from ..codecs import get_codec
    from ..data import write_png
    from ..outputs import atomic_path, check_output

    codec = get_codec(args.codec, **_with_checkpoint(_parse_options(args.option, args.codec), args))
    codec.require_available()
    if args.input.is_dir():
        raise DlicError(f"expected a bitstream file, got a folder: {args.input}")
    if not args.input.is_file():
        raise DlicError(f"input file not found: {args.input}")
    check_output(args.output, inputs=[args.input])
    data = args.input.read_bytes()
    if not data:
        raise DlicError(f"input file is empty: {args.input}")
    if codec.kind == "learned":
        image = codec.decode(data, quality=args.quality)
    else:
        if args.quality is not None:
            raise DlicError(f"--quality is for learned codecs; {args.codec} bitstreams carry their own parameters")
        image = codec.decode(data)
    with atomic_path(args.output, inputs=[args.input]) as tmp:
        write_png(tmp, image)
    print(f"decoded {args.input} ({len(data)} bytes) → {args.output} ({image.shape[1]}×{image.shape[0]})", file=sys.stderr)
    return 0
