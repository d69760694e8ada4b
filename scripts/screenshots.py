"""Screenshots of the demo's main pages for the README (docs/screenshots/*.png).

    uv run python scripts/screenshots.py [--lang en|es] [--out docs/screenshots]

Builds the small demo in a throwaway SQLite file, serves it on a free loopback port and drives
Debian's Chromium (/usr/bin/chromium, see scripts/ensure-chromium) through the pages the README's
tour names, signed in with the demo's own accounts.  Everything shown is synthetic.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import select

from habeas.api.app import create_app
from habeas.api.config import ApiConfig
from habeas.demo.build import DemoResult, build_demo
from habeas.store.engine import make_engine
from habeas.store.register_tables import alerts, person_documents
from habeas.web.config import prepare_environment

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
LOCALES = {"es": "es-SV", "en": "en-US"}


def serve(result: DemoResult, url: str) -> str:
    """The demo's app on a free loopback port, its clock stopped at the scenario's present."""
    prepare_environment("127.0.0.1")
    app = create_app(ApiConfig(make_engine(url), result.ledger_id, clock=lambda: result.end))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}"


def someone_with(url: str, ledger: str, rule: str) -> str:
    """A person the sweep raised ``rule`` about (the README's tour opens one)."""
    with make_engine(url).connect() as conn:
        return str(
            conn.execute(
                select(alerts.c.subject).where(alerts.c.ledger_id == ledger, alerts.c.rule == rule).limit(1)
            ).scalar_one()
        )


def a_document(url: str, ledger: str) -> tuple[str, str, str]:
    with make_engine(url).connect() as conn:
        key = conn.execute(
            select(person_documents.c.doc_key).where(person_documents.c.ledger_id == ledger).limit(1)
        ).scalar_one()
    kind, issuer, number = str(key).split(":", 2)
    return kind.lower(), issuer, number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", choices=sorted(LOCALES), default="en")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/demo.db"
        result = build_demo(make_engine(url), "small", Path(scratch) / "main.key")
        base = serve(result, url)
        password = {a.username: a.password for a in result.accounts}
        person = someone_with(url, result.ledger_id, "R5")
        kind, issuer, number = a_document(url, result.ledger_id)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

            def page_for(user: str | None) -> Page:
                context = browser.new_context(
                    base_url=base, locale=LOCALES[args.lang], viewport={"width": 1100, "height": 1300}
                )
                page = context.new_page()
                if user is not None:
                    page.goto("/sign-in")
                    page.fill("#username", user)
                    page.fill("#password", password[user])
                    page.click("form[action='/sign-in'] button[type=submit]")
                    page.wait_for_url("**/dashboard")
                return page

            def shot(page: Page, path: str, name: str) -> None:
                page.goto(path)
                page.screenshot(path=str(args.out / f"{name}.png"))  # the first screenful: what a reader sees
                print(f"{args.out / name}.png  {path}")

            public = page_for(None)
            public.goto("/")
            public.select_option("#document_kind", kind)
            public.fill("#issuer", issuer)
            public.fill("#number", number)
            public.click("form[aria-labelledby=by-document] button[type=submit]")
            public.screenshot(path=str(args.out / "locator.png"))
            print(f"{args.out / 'locator'}.png  /  (a search by document)")
            shot(page_for("demo.director"), "/dashboard", "dashboard-director")
            shot(page_for("demo.housing"), "/facility-map", "facility-map")
            shot(page_for("demo.records"), f"/people/{person}", "person")
            oversight = page_for("demo.oversight")
            shot(oversight, "/alerts", "oversight-alerts")
            shot(oversight, "/oversight", "oversight-ledger")
            shot(page_for("demo.court"), "/orders", "court-orders")
            shot(page_for("demo.liaison"), "/sending-state", "liaison")
            shot(page_for("demo.intake"), "/intake", "intake")
            browser.close()
    print("done")


if __name__ == "__main__":
    main()
