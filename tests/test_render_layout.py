"""How report.html lays out in a real browser (the system's headless Chromium, driven by
Playwright): nothing needs sideways scrolling on a phone, and the wide drawing of the
decision tree gives way to its outline there; the report of several hosts too."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser, sync_playwright

from poolwatch.cli import main
from poolwatch.simulate import simulate, simulate_hosts

CHROMIUM = shutil.which("chromium-headless-shell") or shutil.which("chromium") or "chromium"
PHONE, DESKTOP = 390, 1280

#: Elements wider than the viewport, and scrolling boxes whose content is wider than them.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 1 && !e.closest('.table-wrap'))
    .map(e => e.tagName.toLowerCase() + '.' + e.className);
  const scrolled = [...document.querySelectorAll('.table-wrap')]
    .filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => e.firstElementChild.className);
  return {page: document.documentElement.scrollWidth, wide, scrolled};
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module", params=["timeouts", "overloaded", "memory-pressure"])
def page_file(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """report.html of a simulated fleet, with a before/after section (its widest table)."""
    folder = tmp_path_factory.mktemp(request.param)
    simulate(request.param, folder / "logs", instances=8, runs=5, seed=3)
    simulate("healthy", folder / "before", instances=8, runs=5, seed=3)
    args = ["report", str(folder / "logs"), "--out", str(folder), "--format", "html",
            "--baseline", str(folder / "before")]  # fmt: skip
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    return folder / "report.html"


def test_nothing_scrolls_sideways_on_a_phone(browser: Browser, page_file: Path) -> None:
    page = browser.new_page(viewport={"width": PHONE, "height": 800})
    page.goto(page_file.as_uri())
    found = page.evaluate(OVERFLOW)
    assert found == {"page": PHONE, "wide": [], "scrolled": []}
    assert page.locator("figure.tree").is_hidden()
    assert page.locator("ul.tree-outline").is_visible()
    assert page.locator("table.health thead").is_hidden()  # a card per metric instead
    page.close()


def test_the_desktop_shows_the_drawn_tree_and_whole_tables(
    browser: Browser, page_file: Path
) -> None:
    page = browser.new_page(viewport={"width": DESKTOP, "height": 900})
    page.goto(page_file.as_uri())
    assert page.evaluate(OVERFLOW)["wide"] == []
    assert page.locator("figure.tree").is_visible()
    assert page.locator("ul.tree-outline").is_hidden()
    assert page.locator("table.health thead").is_visible()
    page.close()


def test_a_guide_command_is_code_that_never_breaks(browser: Browser, page_file: Path) -> None:
    page = browser.new_page(viewport={"width": PHONE, "height": 800})
    page.goto(page_file.as_uri())
    commands = page.locator("code.cmd")
    if page_file.parent.name.startswith("timeouts"):
        assert commands.count() >= 2
    for i in range(commands.count()):
        box = commands.nth(i).bounding_box()
        assert box is not None
        assert box["height"] < 30, commands.nth(i).inner_text()  # one line
    page.close()


@pytest.fixture(scope="module")
def hosts_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """report.html of five simulated hosts, two of them not healthy (a block each)."""
    folder = tmp_path_factory.mktemp("hosts")
    simulate_hosts(folder / "logs", 5, instances=4, runs=3, seed=1)
    args = ["report", str(folder / "logs"), "--out", str(folder), "--format", "html"]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    return folder / "report.html"


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_the_hosts_and_their_blocks_do_not_scroll_sideways(
    browser: Browser, hosts_file: Path, width: int
) -> None:
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(hosts_file.as_uri())
    found = page.evaluate(OVERFLOW)
    assert found == {"page": width, "wide": [], "scrolled": []}
    assert page.locator("h2.host-heading").count() == 2
    assert page.locator("figure.tree").nth(1).is_visible() == (width == DESKTOP)
    page.close()
