"""Start a DSIS test: check the plan and the stimuli, open the vote database, print the links, serve."""

from __future__ import annotations

import ipaddress
import socket
import sys
from pathlib import Path

from ...errors import DlicError
from .app import create_app
from .db import VoteStore
from .plan import LAYOUTS, load_plan

__all__ = ["open_test", "serve", "links"]


def open_test(plan: str | Path, stimuli: str | Path, db: str | Path, *, scale: str = "5",
              layout: str = "sequential") -> VoteStore:
    """Load and check the plan against the stimulus folder, then open (or create) its vote database."""
    if str(scale) not in ("5", "100"):
        raise DlicError(f"unknown rating scale {scale!r}; use 5 (impairment grades) or 100 (continuous)")
    if layout not in LAYOUTS:
        raise DlicError(f"unknown layout {layout!r}; use one of {', '.join(LAYOUTS)}")
    return VoteStore(db, load_plan(plan, stimuli), scale=str(scale), layout=layout)


def links(store: VoteStore, base_url: str) -> list[tuple[str, str]]:
    """``(who, url)`` for every rater (plan order) and, last, the admin dashboard."""
    by_subject = {s: t for t, s in store.tokens.items()}
    rows = [(f"rater {s}", f"{base_url}/r/{by_subject[s]}") for s in store.trials]
    return rows + [("admin", f"{base_url}/admin/{store.admin_token}")]


def serve(store: VoteStore, *, host: str = "127.0.0.1", port: int = 8000, time_scale: float = 1.0,
          out=sys.stdout) -> None:
    """Serve the test until interrupted (uvicorn); prints each rater's private link and the admin's."""
    import uvicorn

    if not time_scale > 0:
        raise DlicError("--time-scale must be positive")
    if not 0 < port < 65536:
        raise DlicError(f"port {port} is not a TCP port (1..65535)")
    app = create_app(store, time_scale=time_scale, log=out)
    sock = _listen(host, port)
    shown_host = f"[{host}]" if ":" in host else host
    base = f"http://{shown_host}:{port}"
    n_votes = sum(p.n_voted for p in store.progress())
    print(f"DSIS test: {len(store.trials)} rater(s), {store.layout}, scale {store.scale_key}; "
          f"{n_votes} vote(s) in {store.path}", file=out)
    for who, url in links(store, base):
        print(f"  {who:>12}: {url}", file=out)
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        print(f"  note: listening on {host}: other machines can reach the test; keep the links private", file=out)
    out.flush()
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


def _listen(host: str, port: int) -> socket.socket:
    """A bound TCP socket (so that a busy port is one readable error, not a server log)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise DlicError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock
