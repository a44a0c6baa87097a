"""Browser-only fixtures: Debian's chromium driven by pytest-playwright against the module's live server.

Never run ``playwright install``: the browser is the system one (``make system-packages`` installs it).
"""
import os
import shutil

import pytest

CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium():
    for path in CHROMIUM_CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    executable = _chromium()
    if executable is None:
        pytest.fail("chromium is not installed (run `make system-packages`)")
    return {**browser_type_launch_args, "executable_path": executable, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def base_url():
    """Replaces pytest-playwright's fallback ``base_url`` fixture.

    That one is defined as an instance method of a plugin class, which pytest 9 reports with a
    ``PytestRemovedIn10Warning`` (an error under ``filterwarnings = error``). The live server is module-scoped,
    so the real URL is given to the browser contexts below instead.
    """
    return None


@pytest.fixture(scope="module")
def browser_context_args(browser_context_args, live_server):
    """Every context opens relative URLs on this module's live server (``page.goto("/login")``).

    pytest-playwright's ``base_url`` is session-scoped while the live server is module-scoped, so the URL is
    set here, on the (narrower) context arguments, instead of overriding ``base_url``.
    """
    return {**browser_context_args, "base_url": live_server.url, "locale": "zh-CN",
            "timezone_id": "Asia/Shanghai"}
