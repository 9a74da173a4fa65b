"""Debian's Chromium, headless, through Playwright (no browser download): for the tests, `make screenshots`
and bench/dashboard.py."""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}


class NoBrowser(Exception):
    """Chromium or Playwright is missing; the message says how to install them."""


def chromium_path() -> str:
    for candidate in ("chromium", "chromium-browser"):
        if found := shutil.which(candidate):
            return found
    raise NoBrowser("Chromium is not installed: run `make setup` (as root it installs Debian's chromium "
                    "for the browser tests)")


def launch(playwright, profile: Path):
    """A browser context with a fresh profile in `profile`."""
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True, viewport=VIEWPORT)


def sync_playwright():
    try:
        from playwright.sync_api import sync_playwright as start
    except ImportError:
        raise NoBrowser("the playwright package is missing: run `make setup`") from None
    return start()
