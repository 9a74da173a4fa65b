"""A headless Chromium (Debian's, driven by Playwright) for the browser tests.

`browser` (session): a context with a fresh profile; without Chromium or Playwright the tests fail and name
`make setup`, which installs both. `page` (function): a new 1280×900 page that fails the test on a script error.
"""

from __future__ import annotations

import pytest

from tests.dashboard.browser import NoBrowser, launch, sync_playwright


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    try:
        with sync_playwright() as playwright:
            context = launch(playwright, tmp_path_factory.mktemp("chromium-profile"))
            yield context
            context.close()
    except NoBrowser as missing:
        pytest.fail(str(missing), pytrace=False)


@pytest.fixture
def page(browser):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    page.close()
    assert not errors, f"the page raised script errors: {errors}"
