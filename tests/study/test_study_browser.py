"""The HTML report in a real browser: it renders, has no console errors, and Chinese shows.

Needs Debian's ``chromium`` (installed by scripts/install-system-deps.sh) and the
``playwright`` Python package (dev extra), which drives the system browser; the tests skip
with the reason when either is missing.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from agglomera.study import parse_study, run_study, write_report

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
MPDTA = ROOT / "tests" / "reference" / "policy" / "mpdta.csv"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("chromium not installed (scripts/install-system-deps.sh installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) missing")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    shutil.copy(MPDTA, folder / "mpdta.csv")
    study = {
        "study": {"title": "最低工资与青年就业 <复现>", "language": "zh", "seed": 1},
        "data": {
            "file": "mpdta.csv",
            "unit": "countyreal",
            "time": "year",
            "rename": {"first_treat": "first.treat"},
        },
        "policy": {
            "outcome": "lemp",
            "cohort": "first_treat",
            "estimators": ["twfe", "cs"],
            "control_group": "never",
        },
    }
    write_report(run_study(parse_study(study), base=folder), folder / "out")
    return folder / "out" / "report.html"


def _pixels(png: bytes):
    from PIL import Image

    return Image.open(io.BytesIO(png)).convert("L")


def test_report_renders_without_console_errors(browser, report_file) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 1400})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(report_file.as_uri())
    page.wait_for_load_state("load")
    assert errors == []
    image = _pixels(page.screenshot(full_page=True))
    low, high = image.getextrema()
    assert high - low > 100  # not a blank page
    assert page.locator("table.ag-table").count() >= 1
    # every embedded figure decoded to a real image
    widths = page.eval_on_selector_all("figure img", "els => els.map(e => e.naturalWidth)")
    assert widths and min(widths) > 100
    assert page.title() == "最低工资与青年就业 <复现>"
    page.close()


def test_chinese_text_renders_with_real_glyphs(browser, report_file) -> None:
    """Different Chinese strings must render differently (missing fonts give equal boxes)."""
    page = browser.new_page()
    page.goto(report_file.as_uri())
    shots = []
    for text in ("城市人才", "产业集聚", "\ue000\ue001\ue002\ue003"):
        page.evaluate(
            """t => { const h = document.querySelector('h1'); h.textContent = t;
                      h.style.display = 'inline-block'; }""",
            text,
        )
        shots.append(page.locator("h1").screenshot())
    page.close()
    a, b, tofu = (_pixels(s) for s in shots)
    assert a.tobytes() != b.tobytes(), "two Chinese strings rendered identically (no CJK font)"
    assert a.tobytes() != tofu.tobytes()
