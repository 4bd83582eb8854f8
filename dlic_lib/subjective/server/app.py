"""The DSIS web app (Starlette): rating pages for raters, a dashboard and the export for the admin.

Routes (``{token}`` is a rater's or the admin's private token):

=====================================  ==========================================================
``GET /r/{token}``                     the rating page (full screen, keyboard and mouse)
``GET /api/r/{token}/state``           the rater's current trial, timings and scale
``POST /api/r/{token}/show``           ``{"trial": i}``: trial *i* is now on the screen
``POST /api/r/{token}/vote``           ``{"trial": i, "score": x}``: one vote (idempotent)
``GET /img/{token}/{trial}/{which}``   the ``reference`` or ``impaired`` image of an own trial
``GET /admin/{token}``                 the dashboard: progress, BT.500 screening, MOS/CI
``GET /api/admin/{token}/summary``     the dashboard's data
``GET /stimuli/{token}/{path}``        an image of the stimulus folder (admin)
``GET /export.csv?token=…``            the raw-vote table (admin), as ``dlic dsis export``
=====================================  ==========================================================

Image URLs of raters name trials, not files, so a rater cannot tell codec or rate from a URL.
Every refused request answers ``{"error": "<one sentence>"}`` with a 4xx status and changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..scores import get_scale
from .db import VoteRejected, VoteStore
from .plan import StimulusPathError, phase_seconds, resolve_image

__all__ = ["create_app", "STATIC_DIR"]

STATIC_DIR = Path(__file__).with_name("static")
_MAX_BODY = 4096
_NO_STORE = {"Cache-Control": "no-store"}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=_NO_STORE)


def create_app(store: VoteStore, *, time_scale: float = 1.0, log: TextIO | None = None) -> Starlette:
    """The app serving ``store``'s test; ``time_scale`` multiplies every plan timing (rehearsals, tests).

    ``log`` (e.g. ``sys.stdout``) gets a line whenever a rater finishes.
    """
    scale = get_scale(store.scale_key)
    root = store.plan.stimuli_dir.resolve()
    n_sessions = {s: max(t.session for t in ts) for s, ts in store.trials.items()}

    def rater(request: Request) -> str:
        token = request.path_params["token"]
        subject = store.subject_of(token)
        if subject is None:
            if token == store.admin_token:
                raise VoteRejected(403, "this is the admin link; raters have links of their own")
            raise VoteRejected(404, "unknown rater link; ask the experimenter for yours")
        return subject

    def admin(token: str | None) -> None:
        if not token:
            raise VoteRejected(401, "the admin token is missing (add ?token=<admin token>)")
        if token != store.admin_token:
            if store.subject_of(token) is not None:
                raise VoteRejected(403, "a rater link cannot open the dashboard or the export")
            raise VoteRejected(403, "unknown admin token")

    async def body(request: Request, fields: tuple[str, ...], subject: str) -> dict:
        raw = await request.body()
        if len(raw) > _MAX_BODY:
            raise VoteRejected(413, f"request body larger than {_MAX_BODY} bytes")
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise VoteRejected(400, "request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise VoteRejected(400, "request body must be a JSON object")
        unknown = sorted(set(data) - {*fields, "subject"})
        if unknown:
            raise VoteRejected(400, f"unknown field(s) {', '.join(map(repr, unknown))}; expected {', '.join(fields)}")
        absent = [f for f in fields if f not in data]
        if absent:
            raise VoteRejected(400, f"missing field(s) {', '.join(absent)}")
        if "subject" in data and str(data["subject"]) != subject:
            raise VoteRejected(403, f"this link belongs to rater {subject}; it cannot act for rater {data['subject']!r}")
        return data

    def state(subject: str, token: str) -> dict:
        trial, n_voted = store.current(subject)
        own = store.trials[subject]
        out = {
            "subject": subject, "layout": store.layout, "n_trials": len(own), "n_voted": n_voted,
            "n_sessions": n_sessions[subject], "done": trial is None,
            "scale": {"key": store.scale_key, "name": scale.name, "low": scale.low, "high": scale.high,
                      "discrete": scale.discrete, "labels": list(scale.labels)},
            "trial": None, "preload": [],
        }
        if trial is not None:
            out["trial"] = {
                "trial": trial.index, "phase": trial.phase, "session": trial.session,
                "break_s": trial.break_before_s * time_scale if n_voted else 0.0,
                "seconds": {k: v * time_scale for k, v in phase_seconds(trial.duration_s, store.layout).items()},
                "reference": f"/img/{token}/{trial.index}/reference", "impaired": f"/img/{token}/{trial.index}/impaired",
            }
            if trial.index + 1 < len(own):
                out["preload"] = [f"/img/{token}/{trial.index + 1}/{w}" for w in ("reference", "impaired")]
        return out

    async def guarded(handler, request: Request) -> Response:
        try:
            return await handler(request)
        except VoteRejected as exc:
            return _error(exc.status, exc.message)

    def route(path: str, handler, methods=("GET",)) -> Route:
        async def endpoint(request: Request) -> Response:
            return await guarded(handler, request)
        return Route(path, endpoint, methods=list(methods))

    async def landing(request: Request) -> Response:
        return HTMLResponse("<!doctype html><title>DSIS test</title><body style='background:#808080;font:20px sans-serif'>"
                            "<p>This is a DSIS test server. Open the private link the experimenter gave you.</p>")

    async def rate_page(request: Request) -> Response:
        rater(request)
        return FileResponse(STATIC_DIR / "rate.html", headers=_NO_STORE)

    async def api_state(request: Request) -> Response:
        subject = rater(request)
        return JSONResponse(await run_in_threadpool(state, subject, request.path_params["token"]), headers=_NO_STORE)

    async def api_show(request: Request) -> Response:
        subject = rater(request)
        data = await body(request, ("trial",), subject)
        await run_in_threadpool(store.mark_shown, subject, data["trial"])
        return JSONResponse({"status": "shown", "trial": data["trial"]}, headers=_NO_STORE)

    async def api_vote(request: Request) -> Response:
        subject = rater(request)
        data = await body(request, ("trial", "score"), subject)
        status = await run_in_threadpool(store.vote, subject, data["trial"], data["score"], scale)
        after = await run_in_threadpool(state, subject, request.path_params["token"])
        if status == "recorded" and after["done"] and log is not None:
            print(f"rater {subject} finished: {after['n_voted']} votes", file=log, flush=True)
        return JSONResponse({"status": status, "trial": data["trial"], "state": after}, headers=_NO_STORE)

    async def image(request: Request) -> Response:
        subject = rater(request)
        which = request.path_params["which"]
        if which not in ("reference", "impaired"):
            raise VoteRejected(404, "an image is either 'reference' or 'impaired'")
        index = request.path_params["trial"]
        own = store.trials[subject]
        if not 0 <= index < len(own):
            raise VoteRejected(404, f"rater {subject} has no trial {index}")
        return FileResponse(root / getattr(own[index], which), headers={"Cache-Control": "private, max-age=86400"})

    async def stimulus_file(request: Request) -> Response:
        admin(request.path_params["token"])
        name = request.path_params["path"]
        try:
            found = resolve_image(root, name)
        except StimulusPathError as exc:
            raise VoteRejected(400, str(exc)) from None
        if found is None or found.relative_to(root).as_posix() not in store.plan.images():
            raise VoteRejected(404, f"the plan shows no image {name!r}")
        return FileResponse(found)

    async def admin_page(request: Request) -> Response:
        admin(request.path_params["token"])
        return FileResponse(STATIC_DIR / "admin.html", headers=_NO_STORE)

    async def summary(request: Request) -> Response:
        admin(request.path_params["token"])
        from .summary import dashboard_summary

        data = await run_in_threadpool(dashboard_summary, store, str(request.base_url).rstrip("/"))
        return JSONResponse(data, headers=_NO_STORE)

    async def export_csv(request: Request) -> Response:
        admin(request.query_params.get("token"))
        table = await run_in_threadpool(store.export)
        return Response(table.to_csv(index=False), media_type="text/csv",
                        headers={**_NO_STORE, "Content-Disposition": 'attachment; filename="raw_votes.csv"'})

    routes = [
        Route("/", landing),
        route("/r/{token}", rate_page),
        route("/api/r/{token}/state", api_state),
        route("/api/r/{token}/show", api_show, ("POST",)),
        route("/api/r/{token}/vote", api_vote, ("POST",)),
        route("/img/{token}/{trial:int}/{which}", image),
        route("/stimuli/{token}/{path:path}", stimulus_file),
        route("/admin/{token}", admin_page),
        route("/api/admin/{token}/summary", summary),
        route("/export.csv", export_csv),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.store = store
    return app
