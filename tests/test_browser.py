"""The review desk in a real browser: Playwright driving Debian's Chromium.

Walks login → queue → accept (keyboard) → candidate → lifecycle step → lifecycle view →
nominations export (download) → weekly list download, keeping screenshots in
tests/artifacts/.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import socket
import threading
import time
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("NGUOITOT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

if not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium; scripts/apt-packages.txt lists it)",
                allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the dev extra)")
pytest.importorskip("uvicorn", reason="the review desk needs the web extra")

from pipeline import review  # noqa: E402
from pipeline.config import Config  # noqa: E402
from pipeline.store import candidates  # noqa: E402
from test_web import PASSWORD, fast_kdf  # noqa: E402,F401 - fixture
from test_weekly import WEEK, fill_store, press_seed  # noqa: E402,F401 - fixture


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def server(store, press_seed, seed_labels, tmp_path, fast_kdf):
    import uvicorn

    from pipeline.web.app import create_app
    ids = fill_store(store, press_seed, seed_labels)
    review.add_user(store, "thuy", "analyst", PASSWORD)
    app = create_app(store, Config(out_dir=str(tmp_path / "out")))
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", store, ids
    srv.should_exit = True
    t.join(10)


def test_walk_login_review_accept_lifecycle_export(server):
    base, store, ids = server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shots = []

    def shot(page, name):
        p = ARTIFACTS / f"{len(shots) + 1:02d}-{name}.png"
        page.screenshot(path=str(p), full_page=False)
        shots.append(p)

    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True, locale="vi-VN")
            page = ctx.new_page()
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

            # login (a wrong password first)
            page.goto(f"{base}/queue?week={WEEK}")
            assert "/login" in page.url
            page.fill("#name", "thuy")
            page.fill("#password", "sai mật khẩu")
            page.click("button[type=submit]")
            assert page.locator(".error").inner_text().startswith("Sai tên đăng nhập")
            page.fill("#password", PASSWORD)
            shot(page, "login")
            page.click("button[type=submit]")
            page.wait_for_url(f"**/queue?week={WEEK}")
            assert page.locator("li.cand").count() == 12
            first = page.locator(f"#c{ids[0]}")
            assert first.locator("mark").count() >= 1
            assert "Tin Nhanh" in first.inner_text() and "báo cáo" in first.inner_text()
            shot(page, "queue")

            # keyboard: j selects the first candidate, a accepts it
            page.keyboard.press("j")
            assert "sel" in (first.get_attribute("class") or "")
            page.keyboard.press("a")
            page.wait_for_load_state("load")
            assert page.locator(".flash").first.inner_text().startswith("Đã duyệt")
            shot(page, "accepted")
            with store.connect() as c:
                assert c.execute(sa.select(candidates.c.status).where(candidates.c.id == ids[0])).scalar() == "accepted"

            # reject the next one with a reason, from the queue
            second = page.locator(f"#c{ids[1]}")
            second.locator("select[name=reason_code]").select_option("outside-area")
            second.locator("button.reject").click()
            page.wait_for_load_state("load")
            assert f"#c{ids[1]}" and page.locator(f"#c{ids[1]}").count() == 0

            # candidate page: lifecycle step with a note and a date
            page.goto(f"{base}/candidate/{ids[0]}")
            assert page.locator(".evid").count() == 3
            page.select_option("select[name=stage]", "boi-duong")
            page.fill("input[name=date]", "2026-12-03")
            page.fill("input[aria-label='Ghi chú bước']", "Gặp gỡ, tặng giấy khen của phường")
            page.click("button[data-key=s]")
            page.wait_for_load_state("load")
            assert "Gặp gỡ, tặng giấy khen của phường" in page.locator("ul.log").inner_text()
            shot(page, "candidate-stage")
            page.goto(f"{base}/lifecycle?stage=boi-duong")
            assert page.locator("table.list tbody tr").count() == 1
            shot(page, "lifecycle")

            # nominations: choose a form and export the dossier
            page.goto(f"{base}/nominations")
            page.select_option(f"select[name=form_{ids[0]}]", "1650360491")
            shot(page, "nominations")
            with page.expect_download() as dl:
                page.click("#export-nominations")
            z = zipfile.ZipFile(io.BytesIO(Path(dl.value.path()).read_bytes()))
            doc = json.loads(z.read(next(n for n in z.namelist() if n.endswith(".json"))))
            assert [n["candidate_id"] for n in doc["nominations"]] == [ids[0]]
            assert doc["nominations"][0]["award"]["name"].startswith("Bằng khen")
            page.goto(f"{base}/nominations")
            assert page.locator(f"select[name=form_{ids[0]}]").count() == 0
            shot(page, "nominated")

            # the weekly list and its Excel download
            page.goto(f"{base}/weekly?week={WEEK}")
            with page.expect_download() as dl2:
                page.click("#dl-xlsx")
            assert dl2.value.suggested_filename == f"weekly-{WEEK}.xlsx"
            shot(page, "weekly")
            # the email-ready HTML list as a mail client would show it
            from pipeline.weekly import render_weekly
            paths = render_weekly(store, WEEK, ARTIFACTS.parent / "artifacts" / "weekly")
            page.goto(paths["html"].as_uri())
            assert page.locator("h1").inner_text().startswith("Danh sách tuần 49/2026")
            shot(page, "weekly-email")
            errors = [e for e in errors if "401 (Unauthorized)" not in e]  # the wrong password, on purpose
            assert not errors, errors  # no script errors, no CSP violations, no missing files
        finally:
            browser.close()
    assert len(shots) == 9 and all(p.stat().st_size > 5000 for p in shots)
