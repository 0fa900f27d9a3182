"""Debian's Chromium, headless, driven by selenium: for the tests of a page (server.py's,
the room view's). Flags that keep it off this machine's closed network."""

import shutil

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync"]


def chromium(*flags):
    """A new Chromium (the caller quits it); skipped where it is not installed."""
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("chromium and chromium-driver are not installed (tests/run installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in [*FLAGS, *flags]:
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    return webdriver.Chrome(options=options, service=service)
