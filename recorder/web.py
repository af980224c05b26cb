"""The teachers' history page: Starlette served by uvicorn, argon2-hashed logins, plots as inline SVG."""
from __future__ import annotations

import csv
import io
import logging
import secrets
import threading
from pathlib import Path

from pwdlib import PasswordHash
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from pianocam.recorder import history
from pianocam.recorder.store import Store

logger = logging.getLogger(__name__)

_hasher = PasswordHash.recommended()  # argon2id
_UNKNOWN = _hasher.hash(secrets.token_urlsafe(16))
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _plot(kind: str, x, series: dict[str, list], ylabel: str, percent: bool = False) -> str:
    """A small SVG chart (bars for one series per day, lines for values over sessions)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.2, 2.4), dpi=96)
    ax = fig.add_subplot()
    for label, ys in series.items():
        if kind == "bar":
            ax.bar(x, ys, width=0.8, color="#4a7bb7", label=label)
        else:
            ax.plot(x, ys, marker="o", ms=3, lw=1.4, label=label)
    ax.set_ylabel(ylabel)
    if percent:
        ax.set_ylim(0, 100)
    if len(series) > 1:
        ax.legend(fontsize=7, loc="lower right")
    ax.grid(axis="y", alpha=0.3)
    ax.tick_params(labelsize=7)
    fig.autofmt_xdate()
    fig.tight_layout()
    out = io.StringIO()
    fig.savefig(out, format="svg")
    svg = out.getvalue()
    return svg[svg.index("<svg"):]


def _history(store: Store, student: str | None, unit_id: str | None) -> dict:
    rows = history.sessions(store.engine, student=student, unit_id=unit_id)
    days = history.per_day(rows)
    exercises = history.by_exercise(rows)
    charts = {}
    if days:
        charts["Minutes practised per day"] = _plot("bar", list(days), {"minutes": list(days.values())}, "minutes")
    for name, runs in exercises.items():
        when = [r.started for r in runs]
        charts[f"{name}: tempo"] = _plot("line", when, {"tempo": [r.tempo for r in runs]}, "bpm")
        charts[f"{name}: fingering as written"] = _plot(
            "line", when, {"as written": [100 * (r.fingering_as_written or 0) for r in runs]}, "%", percent=True)
    return {"rows": rows, "weeks": history.per_week(rows), "charts": charts,
            "total_min": sum(r.practice_s for r in rows) / 60, "reports": history.reports(store.engine, rows)}


def make_app(store: Store, secret: str | None = None) -> Starlette:
    def teacher(request: Request) -> str | None:
        return request.session.get("teacher")

    async def login(request: Request):
        error = None
        if request.method == "POST":
            form = await request.form()
            name, password = str(form.get("name", "")), str(form.get("password", ""))
            stored = store.teacher_hash(name)
            # An unknown name costs one hash too, so the answer's timing does not say which names exist.
            if _hasher.verify(password, stored or _UNKNOWN) and stored:
                request.session["teacher"] = name
                return RedirectResponse("/", status_code=303)
            error = "Unknown teacher or wrong password."
        return templates.TemplateResponse(request, "login.html", {"error": error}, status_code=401 if error else 200)

    async def logout(request: Request):
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    def guarded(handler):
        async def inner(request: Request):
            if not teacher(request):
                return RedirectResponse("/login", status_code=303)
            return await handler(request)
        return inner

    async def index(request: Request):
        students, units = history.names(store.engine)
        return templates.TemplateResponse(request, "index.html",
                                          {"teacher": teacher(request), "students": students, "units": units})

    async def student(request: Request):
        name = request.path_params["name"]
        return templates.TemplateResponse(request, "history.html", {
            "teacher": teacher(request), "title": f"Student {name}", "query": {"student": name},
            **_history(store, name, None)})

    async def unit(request: Request):
        unit_id = request.path_params["unit_id"]
        return templates.TemplateResponse(request, "history.html", {
            "teacher": teacher(request), "title": f"Unit {unit_id}", "query": {"unit": unit_id},
            **_history(store, None, unit_id)})

    async def export(request: Request):
        rows = history.sessions(store.engine, student=request.query_params.get("student"),
                                unit_id=request.query_params.get("unit"))
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["started", "unit", "student", "minutes_practised", "notes", "exercise", "tempo_bpm",
                         "fingering_as_written"])
        for r in rows:
            writer.writerow([r.started.isoformat(timespec="seconds"), r.unit_id, r.student or "",
                             f"{r.practice_s / 60:.1f}", r.notes, r.exercise or "",
                             "" if r.tempo is None else f"{r.tempo:.0f}",
                             "" if r.fingering_as_written is None else f"{r.fingering_as_written:.3f}"])
        return Response(out.getvalue(), media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="pianocam-sessions.csv"'})

    async def tag(request: Request):
        form = await request.form()
        store.tag(int(request.path_params["session_id"]), str(form.get("student", "")) or None)
        return RedirectResponse(request.headers.get("referer") or "/", status_code=303)

    routes = [Route("/login", login, methods=["GET", "POST"]), Route("/logout", logout),
              Route("/", guarded(index)), Route("/student/{name}", guarded(student)),
              Route("/unit/{unit_id}", guarded(unit)), Route("/export.csv", guarded(export)),
              Route("/session/{session_id:int}/student", guarded(tag), methods=["POST"])]
    # A fresh secret per start: teachers log in again after a restart, and no secret sits on disk.
    middleware = [Middleware(SessionMiddleware, secret_key=secret or secrets.token_urlsafe(32),
                             same_site="strict", max_age=12 * 3600)]
    return Starlette(routes=routes, middleware=middleware)


def serve(store: Store, host: str, port: int):
    """uvicorn on a daemon thread; set `.should_exit` on the returned server to stop it."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(make_app(store), host=host, port=port, log_level="warning"))
    threading.Thread(target=server.run, name="history-page", daemon=True).start()
    logger.info("history page on http://%s:%d/", host, port)
    return server
