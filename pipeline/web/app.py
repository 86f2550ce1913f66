"""The review desk (``nguoitot serve``): thin web layer over :mod:`pipeline.review`.

Security: argon2 password hashes, signed session cookies (SameSite=Strict,
HttpOnly), a CSRF token checked on every POST, login throttling per user
name and per client address, Jinja2 autoescape on every template, a strict
Content-Security-Policy (no inline script or style), role checks on every
page and export.
"""
from __future__ import annotations

import hmac
import io
import secrets
import shutil
import tempfile
import threading
import urllib.parse
import zipfile
from pathlib import Path
from typing import Any, Callable

try:
    from fastapi import FastAPI, Request
    from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
    from starlette.concurrency import run_in_threadpool
    from starlette.background import BackgroundTask
    from starlette.middleware.sessions import SessionMiddleware
    from starlette.staticfiles import StaticFiles
except ImportError as e:  # pragma: no cover - depends on the installation
    raise ImportError(f"the review desk needs the web extra: pip install 'nguoitot[web]' ({e})") from e

from jinja2 import Environment, FileSystemLoader

from .. import review
from ..store import Store
from ..taxonomy import DEEDS, FIELDS, LABELS, STAGES
from ..weekly import STATUS_NAMES, current_week, parse_week, render_weekly, weekly_data

HERE = Path(__file__).resolve().parent
SESSION_MAX_AGE = 8 * 3600
MAX_FORM_BYTES = 256 * 1024


class Denied(Exception):
    def __init__(self, status: int, message: str = ""):
        self.status, self.message = status, message


class LoginRequired(Exception):
    pass


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(FIELDS=FIELDS, DEEDS=DEEDS, STAGES=STAGES, LABELS=LABELS, STATUS_NAMES=STATUS_NAMES,
                       REJECT_REASONS=review.REJECT_REASONS, UNSURE_REASONS=review.UNSURE_REASONS,
                       has_role=review.has_role)
    env.filters["score"] = lambda v: "—" if v is None else f"{float(v):.2f}"
    return env


def _secret(store: Store, config: Any) -> str:
    raw = getattr(config, "raw", None) or {}
    s = (raw.get("web") or {}).get("secret") if isinstance(raw, dict) else None
    if s:
        return str(s)
    s = store.get_meta("web_secret")
    if not s:
        s = secrets.token_urlsafe(48)
        store.set_meta("web_secret", s)
    return s


def _week(value: str) -> str:
    try:
        parse_week(value)
    except ValueError as e:
        raise Denied(400, str(e)) from e
    return value


def _safe_next(value: str | None, default: str) -> str:
    """Only same-site paths: '/queue?x' yes, '//evil', 'http://evil', '/\\evil' no."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value \
            and not any(ch in value for ch in "\r\n"):
        return value
    return default


def create_app(store: Store, config: Any = None, *, limiter: review.LoginLimiter | None = None,
               https_only: bool | None = None, train_fn: Callable[[], Any] | None = None) -> FastAPI:
    """The review desk over ``store``. ``config`` is a :class:`pipeline.config.Config`
    (``[web]`` table: ``secret``, ``https_only``); ``train_fn`` replaces the default
    retraining job (tests)."""
    raw = getattr(config, "raw", None) or {}
    web_cfg = raw.get("web", {}) if isinstance(raw, dict) else {}
    app = FastAPI(title="nguoitot review desk", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store
    app.state.config = config
    app.state.limiter = limiter or review.LoginLimiter()
    app.state.train = {"running": False, "last": None, "error": None}
    env = _env()

    def render(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        user = getattr(request.state, "user", None)
        flashes = request.session.pop("flash", []) if "flash" in request.session else []
        html = env.get_template(template).render(request=request, user=user, csrf=csrf_token(request),
                                             flashes=flashes, path=request.url.path, **ctx)
        return HTMLResponse(html, status_code=status)

    def flash(request: Request, msg: str, kind: str = "ok") -> None:
        request.session["flash"] = (request.session.get("flash") or [])[-4:] + [[kind, msg[:300]]]

    def csrf_token(request: Request) -> str:
        tok = request.session.get("csrf")
        if not tok:
            tok = secrets.token_urlsafe(32)
            request.session["csrf"] = tok
        return tok

    def user_of(request: Request, role: str) -> dict[str, Any]:
        uid = request.session.get("uid")
        if not uid:
            raise LoginRequired()
        u = review.get_user(store, request.session.get("name") or "")
        if u is None or u["id"] != uid or u["disabled"]:
            request.session.clear()
            raise LoginRequired()
        request.state.user = u
        if not review.has_role(u["role"], role):
            raise Denied(403, "Tài khoản của bạn không có quyền xem trang này.")
        return u

    async def read_form(request: Request) -> Any:
        try:
            size = int(request.headers.get("content-length") or 0)
        except ValueError:
            size = MAX_FORM_BYTES + 1
        if size > MAX_FORM_BYTES:
            raise Denied(413, "Dữ liệu gửi lên quá lớn.")
        return await request.form(max_files=0, max_fields=500)

    async def posted(request: Request, role: str) -> tuple[dict[str, Any], Any]:
        """Auth + CSRF for a form post; returns (user, form)."""
        form = await read_form(request)
        sent = form.get("csrf") or request.headers.get("x-csrf-token") or ""
        good = request.session.get("csrf") or ""
        if not good or not isinstance(sent, str) or not hmac.compare_digest(sent, good):
            raise Denied(403, "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ (CSRF). Hãy tải lại trang.")
        return user_of(request, role), form

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired):  # noqa: ARG001
        nxt = request.url.path + (("?" + request.url.query) if request.url.query else "")
        if request.method != "GET":
            nxt = "/"
        return RedirectResponse("/login?next=" + urllib.parse.quote(nxt, safe=""), status_code=303)

    @app.exception_handler(Denied)
    async def _denied(request: Request, exc: Denied):
        return render(request, "error.html", status=exc.status, message=exc.message)

    @app.exception_handler(review.ReviewError)
    async def _review_error(request: Request, exc: review.ReviewError):
        return render(request, "error.html", status=400, message=str(exc))

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        resp = await call_next(request)
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if resp.headers.get("content-type", "").startswith("text/html"):
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    app.add_middleware(SessionMiddleware, secret_key=_secret(store, config), session_cookie="nguoitot_session",
                       max_age=SESSION_MAX_AGE, same_site="strict",
                       https_only=bool(web_cfg.get("https_only", False) if https_only is None else https_only))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    # -- login -------------------------------------------------------------------
    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/"):  # noqa: A002
        return render(request, "login.html", next=_safe_next(next, "/"))

    @app.post("/login")
    async def login(request: Request):
        form = await read_form(request)
        sent, good = str(form.get("csrf") or ""), request.session.get("csrf") or ""
        if not good or not hmac.compare_digest(sent, good):
            raise Denied(403, "Biểu mẫu đăng nhập không hợp lệ (CSRF). Hãy tải lại trang.")
        name = str(form.get("name") or "").strip()[:64]
        password = str(form.get("password") or "")[:1024]
        nxt = _safe_next(str(form.get("next") or "/"), "/")
        ip = request.client.host if request.client else "?"
        lim: review.LoginLimiter = app.state.limiter
        keys = (f"user:{name.lower()}", f"ip:{ip}")
        wait = lim.wait(*keys)
        if wait > 0:
            resp = render(request, "login.html", status=429, next=nxt, login_name=name,
                          error=f"Sai mật khẩu nhiều lần. Hãy thử lại sau {int(wait) + 1} giây.")
            resp.headers["Retry-After"] = str(int(wait) + 1)
            return resp
        u = await run_in_threadpool(review.authenticate, store, name, password)
        if u is None:
            lim.failed(*keys)
            return render(request, "login.html", status=401, next=nxt, login_name=name,
                          error="Sai tên đăng nhập hoặc mật khẩu.")
        lim.succeeded(*keys)
        request.session.clear()  # no fixation: a fresh session and CSRF token
        request.session.update({"uid": u["id"], "name": u["name"], "csrf": secrets.token_urlsafe(32)})
        return RedirectResponse(nxt, status_code=303)

    @app.post("/logout")
    async def logout(request: Request):
        await posted(request, "staff")
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    @app.get("/")
    def home(request: Request):
        user_of(request, "staff")
        return RedirectResponse("/queue", status_code=303)

    # -- the queue ---------------------------------------------------------------
    def _default_week() -> str:
        ws = review.weeks(store)
        return ws[0] if ws else current_week()

    @app.get("/queue", response_class=HTMLResponse)
    def queue_page(request: Request, week: str = "", field: str = "", status: str = "new", order: str = "score",
                   q: str = "", page: int = 1):
        u = user_of(request, "staff")
        week = week.strip() or _default_week()
        if week != "all":
            _week(week)
        if order == "uncertain" and not review.has_role(u["role"], "analyst"):
            order = "score"
        if field and field not in FIELDS:
            field = ""
        data = review.queue(store, None if week == "all" else week, field=field or None, status=status,
                            order=order, q=q[:200] or None, page=page)
        params = {"week": week, "field": field, "status": status, "order": order, "q": q[:200]}
        return render(request, "queue.html", data=data, params=params, weeks=review.weeks(store),
                      qs=lambda **kw: urllib.parse.urlencode({**params, **kw}),
                      here=request.url.path + ("?" + request.url.query if request.url.query else ""))

    @app.get("/candidate/{cid}", response_class=HTMLResponse)
    def candidate_page(request: Request, cid: int):
        user_of(request, "staff")
        cand = review.candidate_detail(store, cid)
        if cand is None:
            raise Denied(404, "Không có ứng viên này.")
        return render(request, "candidate.html", c=cand)

    def _back(form: Any, cid: int) -> str:
        return _safe_next(str(form.get("next") or ""), f"/candidate/{cid}")

    @app.post("/candidate/{cid}/decide")
    async def decide(request: Request, cid: int):
        u, form = await posted(request, "staff")
        action = str(form.get("action") or "")
        res = await run_in_threadpool(review.decide, store, cid, u["name"], action,
                                      reason_code=str(form.get("reason_code") or "") or None,
                                      note=str(form.get("note") or ""))
        names = {"accepted": "Đã duyệt", "rejected": "Đã loại", "unsure": "Đã đánh dấu cần xem thêm"}
        flash(request, f"{names[res['status']]} ứng viên #{cid}.")
        return RedirectResponse(_back(form, cid), status_code=303)

    @app.post("/candidate/{cid}/rename")
    async def rename(request: Request, cid: int):
        u, form = await posted(request, "staff")
        await run_in_threadpool(review.rename, store, cid, u["name"], str(form.get("name") or ""),
                                int(form.get("index") or 0), str(form.get("note") or ""))
        flash(request, "Đã sửa tên.")
        return RedirectResponse(_back(form, cid), status_code=303)

    @app.post("/candidate/{cid}/classify")
    async def classify(request: Request, cid: int):
        u, form = await posted(request, "staff")
        await run_in_threadpool(review.reclassify, store, cid, u["name"],
                                field=str(form.get("field") or "") or None, deed=str(form.get("deed") or "") or None,
                                note=str(form.get("note") or ""))
        flash(request, "Đã đổi lĩnh vực / loại việc tốt.")
        return RedirectResponse(_back(form, cid), status_code=303)

    @app.post("/candidate/{cid}/merge")
    async def merge(request: Request, cid: int):
        u, form = await posted(request, "staff")
        try:
            target = int(str(form.get("target") or "").strip().lstrip("#"))
        except ValueError as e:
            raise review.ReviewError("nhập mã số ứng viên để gộp vào") from e
        await run_in_threadpool(review.merge, store, cid, target, u["name"], str(form.get("note") or ""))
        flash(request, f"Đã gộp #{cid} vào #{target}.")
        return RedirectResponse(f"/candidate/{target}", status_code=303)

    @app.post("/candidate/{cid}/split")
    async def split(request: Request, cid: int):
        u, form = await posted(request, "staff")
        try:
            ids = [int(x) for x in form.getlist("articles")]
        except ValueError as e:
            raise review.ReviewError("bad article id") from e
        new_id = await run_in_threadpool(review.split, store, cid, ids, u["name"], str(form.get("name") or ""),
                                         str(form.get("note") or ""))
        flash(request, f"Đã tách thành ứng viên mới #{new_id}.")
        return RedirectResponse(f"/candidate/{new_id}", status_code=303)

    @app.post("/candidate/{cid}/stage")
    async def stage(request: Request, cid: int):
        u, form = await posted(request, "staff")
        await run_in_threadpool(review.set_stage, store, cid, u["name"], str(form.get("stage") or ""),
                                note=str(form.get("note") or ""), date=str(form.get("date") or "") or None)
        flash(request, "Đã ghi bước của phong trào.")
        return RedirectResponse(_back(form, cid), status_code=303)

    @app.post("/article/{aid}/label")
    async def label(request: Request, aid: int):
        u, form = await posted(request, "analyst")
        try:
            lab = int(str(form.get("label")))
            cid = int(form["candidate_id"]) if form.get("candidate_id") else None
        except ValueError as e:
            raise review.ReviewError("label must be 0, 1 or 2") from e
        await run_in_threadpool(review.label_article, store, u["name"], aid, lab,
                                field=str(form.get("field") or "") or None, deed=str(form.get("deed") or "") or None,
                                candidate_id=cid, note=str(form.get("note") or ""))
        flash(request, f"Đã gán nhãn {lab} cho bài #{aid}.")
        return RedirectResponse(_safe_next(str(form.get("next") or ""), f"/candidate/{cid}" if cid else "/queue"),
                                status_code=303)

    # -- lifecycle ---------------------------------------------------------------
    @app.get("/lifecycle", response_class=HTMLResponse)
    def lifecycle_page(request: Request, stage: str = "phat-hien"):
        user_of(request, "staff")
        if stage not in STAGES:
            stage = "phat-hien"
        return render(request, "lifecycle.html", data=review.lifecycle(store, stage), stage=stage)

    # -- weekly list --------------------------------------------------------------
    @app.get("/weekly", response_class=HTMLResponse)
    def weekly_page(request: Request, week: str = ""):
        user_of(request, "staff")
        week = _week(week.strip() or _default_week())
        return render(request, "weekly.html", d=weekly_data(store, week), weeks=review.weeks(store))

    @app.get("/weekly/{week}.{ext}")
    def weekly_file(request: Request, week: str, ext: str):
        user_of(request, "staff")
        _week(week)
        if ext not in ("html", "xlsx", "csv"):
            raise Denied(404, "Không có định dạng này.")
        tmp = tempfile.mkdtemp(prefix="weekly-")
        paths = render_weekly(store, week, Path(tmp))
        return FileResponse(paths[ext], filename=paths[ext].name,
                            background=BackgroundTask(shutil.rmtree, tmp, ignore_errors=True),
                            media_type={"html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8",
                                        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[ext],
                            headers={"Content-Disposition": f'attachment; filename="{paths[ext].name}"'})

    # -- nominations ----------------------------------------------------------------
    @app.get("/nominations", response_class=HTMLResponse)
    def nominations_page(request: Request):
        user_of(request, "analyst")
        from .. import nominations as nom
        return render(request, "nominations.html", pending=nom.pending(store), done=nom.nominated(store),
                      forms=nom.AWARD_FORMS)

    @app.post("/nominations/export")
    async def nominations_export(request: Request):
        u, form = await posted(request, "analyst")
        from .. import nominations as nom
        chosen: dict[int, str] = {}
        for key in form.keys():
            if key.startswith("form_"):
                val = str(form.get(key) or "")
                if val:
                    try:
                        chosen[int(key[5:])] = val
                    except ValueError:
                        continue
        tmp = Path(tempfile.mkdtemp(prefix="nominations-"))
        try:
            result = await run_in_threadpool(nom.export_nominations, store, tmp, forms=chosen, user=u["name"])
            if not result.get("files"):
                flash(request, "Không có ứng viên nào để xuất.", "warn")
                return RedirectResponse("/nominations", status_code=303)
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for p in result["files"]:
                    p = Path(p)
                    z.write(p, p.relative_to(tmp).as_posix())
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return Response(buf.getvalue(), media_type="application/zip",
                        headers={"Content-Disposition": 'attachment; filename="de-nghi-khen-thuong.zip"'})

    # -- analysts: labels and retraining ---------------------------------------------
    @app.get("/train", response_class=HTMLResponse)
    def train_page(request: Request):
        user_of(request, "analyst")
        return render(request, "train.html", counts=review.label_counts(store), job=app.state.train)

    def _default_train() -> Any:
        """What ``nguoitot train`` does, with the store's decisions; the new version is not promoted."""
        from .. import train as tr
        models_dir = getattr(config, "models_dir", None) or "models"
        return tr.train_cli(store=store, models_dir=models_dir, promote=False)

    @app.post("/train")
    async def train(request: Request):
        u, _ = await posted(request, "analyst")
        job = app.state.train
        if job["running"]:
            flash(request, "Đang huấn luyện, hãy chờ.", "warn")
            return RedirectResponse("/train", status_code=303)
        fn = train_fn or _default_train
        job.update(running=True, error=None, by=u["name"])

        def run() -> None:
            try:
                card = fn()
                job["last"] = (card or {}).get("version") if isinstance(card, dict) else str(card)
            except Exception as e:  # noqa: BLE001 - shown on the page
                job["error"] = f"{type(e).__name__}: {e}"[:500]
            finally:
                job["running"] = False

        t = threading.Thread(target=run, name="nguoitot-train", daemon=True)
        app.state.train_thread = t
        t.start()
        flash(request, "Đã bắt đầu huấn luyện mô hình mới (chưa đưa vào dùng).")
        return RedirectResponse("/train", status_code=303)

    # -- admins: users and sources ---------------------------------------------------
    @app.get("/admin/users", response_class=HTMLResponse)
    def users_page(request: Request):
        user_of(request, "admin")
        return render(request, "users.html", users=review.list_users(store), roles=review.ROLES)

    @app.post("/admin/users")
    async def users_add(request: Request):
        _, form = await posted(request, "admin")
        try:
            await run_in_threadpool(review.add_user, store, str(form.get("name") or ""), str(form.get("role") or ""),
                                    str(form.get("password") or ""))
        except ValueError as e:
            flash(request, str(e), "error")
        else:
            flash(request, f"Đã thêm tài khoản {str(form.get('name'))[:64]}.")
        return RedirectResponse("/admin/users", status_code=303)

    @app.post("/admin/users/{name}")
    async def users_update(request: Request, name: str):
        u, form = await posted(request, "admin")
        role = str(form.get("role") or "") or None
        disabled = {"1": True, "0": False}.get(str(form.get("disabled") or ""))
        if name == u["name"] and (disabled or (role and role != "admin")):
            flash(request, "Không tự khóa hay hạ quyền tài khoản của chính mình.", "error")
            return RedirectResponse("/admin/users", status_code=303)
        try:
            await run_in_threadpool(review.update_user, store, name, role=role, disabled=disabled,
                                    password=str(form.get("password") or "") or None)
        except ValueError as e:
            flash(request, str(e), "error")
        else:
            flash(request, f"Đã cập nhật {name}.")
        return RedirectResponse("/admin/users", status_code=303)

    @app.get("/admin/sources", response_class=HTMLResponse)
    def sources_page(request: Request):
        user_of(request, "admin")
        path = getattr(config, "sources", None)
        rows, error = [], None
        try:
            from ..sources import load_sources
            if path:
                rows = load_sources(path)
        except Exception as e:  # noqa: BLE001 - shown to the admin
            error = f"{type(e).__name__}: {e}"[:500]
        return render(request, "sources.html", sources=rows, catalogue=path, error=error)

    return app
