"""A rating sheet in a real browser: the system's Chromium (Debian ``chromium`` and
``chromium-driver``, which ``scripts/test.sh`` installs as root) under Selenium, with nothing downloaded.

``tests/test_human_eval.py`` rates a sheet through it the way a person would, and the README's
screenshot is made by the same code:

    .venv/bin/python tests/sheet_browser.py results/real/poems/human_eval/sheet.html docs/human_eval_sheet.png
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

CHROMIUM = os.environ.get("SEQGAN_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SEQGAN_CHROMEDRIVER", "/usr/bin/chromedriver")
WINDOW = (900, 820)


def start_browser(download_dir: Path):
    """Headless Chromium that saves downloads in ``download_dir`` without asking."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).is_file():
            raise FileNotFoundError(
                f"{path}: not installed; `apt-get install chromium chromium-driver` as root "
                "installs it (bash scripts/test.sh does)"
            )
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not fetch a browser or driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--lang=en-US",
    ):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(download_dir), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(download_dir)})
    return driver


def press(driver, keys: str) -> None:
    """Keys typed into whatever has focus, as a rater types them."""
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(keys).perform()


def wait_for_file(path: Path, timeout: float = 60.0) -> Path:  # a poll: a loaded machine costs nothing
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file() and path.stat().st_size > 0:
            return path
        time.sleep(0.1)
    raise TimeoutError(f"{path} was not downloaded within {timeout:.0f} s")


def screenshot(sheet: Path, out: Path) -> None:
    """The sheet's first item, unrated, as a rater first sees it."""
    driver = start_browser(out.parent)
    try:
        driver.get(Path(sheet).resolve().as_uri())
        driver.save_screenshot(str(out))
    finally:
        driver.quit()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: sheet_browser.py SHEET.html OUT.png")
    screenshot(Path(sys.argv[1]), Path(sys.argv[2]))
