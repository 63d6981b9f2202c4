"""report.html renders in headless Chromium: plots load, no console errors, nothing external;
it opens on the overview, at desktop and at phone width, and never scrolls sideways."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pandas as pd
import pytest

from alignprobe.cli import main
from alignprobe.report.compare import Inputs, compare
from alignprobe.report.render import render
from alignprobe.tasks.emergent_misalignment.scorer import MEASURES as EM_MEASURES
from tests.gate_tables import em_rows

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--remote-debugging-address=127.0.0.1",
]
#: (width, height) of the screens the overview must read on: a laptop and a phone
VIEWPORTS = ((1280, 800), (390, 844))
#: facts about the laid-out page, read in the page itself
LAYOUT = """JSON.stringify({
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: window.innerWidth,
  firstSection: (document.querySelector("body > section, body > details") || {}).id || null,
  overviewTop: document.getElementById("overview").getBoundingClientRect().top,
  folds: document.querySelectorAll("details.section > summary").length
})"""


def _report(tmp: Path) -> Path:
    csv = tmp / "r.csv"
    rows = ["question_id,question,answer,aligned,coherent"]
    for q in range(4):
        rows += [f"q{q},Question {q}?,Answer <b>{i}</b>,{10 + 30 * i},{80 - i}" for i in range(3)]
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    for name, role in (("a", "control"), ("b", "inoculated")):
        main(
            [
                "import",
                str(csv),
                "--checkpoint",
                name,
                "--out",
                str(tmp / name),
                "--role",
                role,
                "--judge-id",
                "same-judge",
            ]
        )
    main(["compare", str(tmp / "a"), str(tmp / "b"), "--out", str(tmp / "report")])
    return tmp / "report" / "report.html"


def _experiment_report(tmp: Path) -> Path:
    """A base, a control run that got worse at step 300 under two conditions, an inoculated
    run that did not, and a checkpoint that never answers badly (a footnoted interval)."""
    rates = {"base": 0.05, "control-300": 0.3, "inoculated-300": 0.05, "never": 0.0}
    metas: dict[str, dict[str, Any]] = {
        "base": {"role": "baseline", "step": 0},
        "control-300": {"role": "control", "run": "control-run", "step": 300},
        "inoculated-300": {"role": "inoculated", "run": "inoculated-run", "step": 300},
        "never": {},
    }
    frames = [
        em_rows(name, rate, samples=8, seed=i, condition=condition)
        for i, (name, rate) in enumerate(rates.items())
        for condition in ("neutral", "evil_system")
    ]
    roles = {name: str(meta["role"]) for name, meta in metas.items() if "role" in meta}
    inputs = Inputs(
        pd.concat(frames, ignore_index=True),
        {"emergent_misalignment": EM_MEASURES},
        roles,
        ["synthetic"],
        metas=metas,
    )
    render(compare(inputs, baseline="base", transcripts_per_pair=1), tmp / "report")
    return tmp / "report" / "report.html"


@contextmanager
def _chromium(profile: Path) -> Iterator[str]:
    """A headless Chromium; yields the DevTools websocket URL of its page."""
    assert CHROMIUM is not None
    process = subprocess.Popen(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.is_file() or len(port_file.read_text().splitlines()) < 2:
            assert time.monotonic() < deadline, "chromium did not start"
            time.sleep(0.1)
        port = port_file.read_text().splitlines()[0]

        async def target() -> str:
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{port}/json/list") as r,
            ):
                pages = [t for t in await r.json() if t["type"] == "page"]
                return str(pages[0]["webSocketDebuggerUrl"])

        yield asyncio.run(target())
    finally:
        process.terminate()
        process.wait(timeout=10)


async def _inspect_page(ws_url: str, page: Path, shot: Path, shots: Path) -> dict[str, Any]:
    """Console problems, images, a full-page screenshot (``shot``), and per viewport of
    :data:`VIEWPORTS` the layout facts and a first-screen screenshot in ``shots``."""
    problems: list[str] = []
    async with aiohttp.ClientSession() as session, session.ws_connect(ws_url, max_msg_size=0) as ws:
        ids = iter(range(1, 10_000))

        async def call(method: str, **params: Any) -> dict[str, Any]:
            msg_id = next(ids)
            await ws.send_json({"id": msg_id, "method": method, "params": params})
            while True:
                message = json.loads((await ws.receive()).data)
                if message.get("method") in (
                    "Runtime.consoleAPICalled",
                    "Runtime.exceptionThrown",
                    "Log.entryAdded",
                ):
                    params_ = message["params"]
                    level = params_.get("type") or params_.get("entry", {}).get("level")
                    if message["method"] == "Runtime.exceptionThrown" or level in (
                        "error",
                        "warning",
                    ):
                        problems.append(json.dumps(params_)[:300])
                if message.get("id") == msg_id:
                    return dict(message.get("result", {}))

        for domain in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
            await call(domain)
        await call("Page.navigate", url=page.as_uri())
        for _ in range(100):
            state = await call(
                "Runtime.evaluate", expression="document.readyState", returnByValue=True
            )
            if state["result"]["value"] == "complete":
                break
            await asyncio.sleep(0.1)
        images = await call(
            "Runtime.evaluate",
            expression="JSON.stringify(Array.from(document.images).map(i => [i.complete, i.naturalWidth]))",
            returnByValue=True,
        )
        screenshot = await call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        shot.write_bytes(base64.b64decode(screenshot["data"]))
        layouts = {}
        for width, height in VIEWPORTS:
            await call(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=width < 600,
            )
            await call("Page.reload")
            await asyncio.sleep(0.5)
            layout = await call("Runtime.evaluate", expression=LAYOUT, returnByValue=True)
            layouts[width] = json.loads(layout["result"]["value"])
            first_screen = await call("Page.captureScreenshot", format="png")
            (shots / f"report-{width}.png").write_bytes(base64.b64decode(first_screen["data"]))
        return {
            "problems": problems,
            "images": json.loads(images["result"]["value"]),
            "layouts": layouts,
        }


def _check_layout(layouts: dict[int, dict[str, Any]]) -> None:
    for width, height in VIEWPORTS:
        layout = layouts[width]
        # nothing wider than the screen: wide tables scroll inside themselves (a phone
        # browser would otherwise zoom the whole page out to its widest table)
        assert layout["scrollWidth"] <= width, (width, layout)
        assert layout["innerWidth"] == width
        # the overview is the first section and starts on the first screen
        assert layout["firstSection"] == "overview"
        assert 0 <= layout["overviewTop"] < height / 2
        assert layout["folds"] >= 4  # the details fold


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (make system)")
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    page = _report(tmp_path)
    html = page.read_text(encoding="utf-8")
    # self-contained: no scripts, no external references
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:|#)""", html)
    assert "<b>0</b>" not in html  # answers are escaped

    shot = tmp_path / "report.png"
    with _chromium(tmp_path / "profile") as ws_url:
        result = asyncio.run(_inspect_page(ws_url, page, shot, tmp_path))
    assert result["problems"] == []
    assert len(result["images"]) >= 2 and all(ok and width > 0 for ok, width in result["images"])
    assert shot.stat().st_size > 10_000
    _check_layout(result["layouts"])


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (make system)")
def test_overview_reads_on_a_laptop_and_a_phone(tmp_path: Path) -> None:
    page = _experiment_report(tmp_path)
    with _chromium(tmp_path / "profile") as ws_url:
        result = asyncio.run(_inspect_page(ws_url, page, tmp_path / "full.png", tmp_path))
    assert result["problems"] == []
    _check_layout(result["layouts"])
    for width, _ in VIEWPORTS:
        assert (tmp_path / f"report-{width}.png").stat().st_size > 10_000
    print(f"overview screenshots: {tmp_path}/report-1280.png, {tmp_path}/report-390.png")
