"""The HTML page in a real headless browser: Debian's chromium and chromedriver."""

import shutil
import uuid

import pytest

from harness import query

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("chromium and chromium-driver are not installed (tests/run installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]:
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    yield driver
    driver.quit()


def texts(browser):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        return [item.text for item in browser.find_elements(By.CSS_SELECTOR, "#messages li")]
    except StaleElementReferenceException:  # the page was being replaced: read it again
        return texts(browser)


def wait_until_shown(browser, content):
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 10).until(
        lambda b: any(text.startswith(content) for text in texts(b)),
        f"{content!r} never showed in the list")


def test_page_lists_the_stored_messages(browser, server, cluster):
    browser.get(f"http://127.0.0.1:{server.port}/")
    shown = [text.rsplit(" #", 1)[0] for text in texts(browser)]
    assert shown == [c for (c,) in query(cluster, "SELECT content FROM messages ORDER BY id")]


def test_form_posts_a_message_that_then_shows(browser, server, cluster):
    from selenium.webdriver.common.by import By

    content = f"typed in a browser {uuid.uuid4()}"
    browser.get(f"http://127.0.0.1:{server.port}/")
    browser.find_element(By.NAME, "message").send_keys(content)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_until_shown(browser, content)
    assert browser.current_url.rstrip("/").endswith(str(server.port))  # back on the list
    assert query(cluster, "SELECT count(*) FROM messages WHERE content = %s", content) == [(1,)]


def test_markup_in_a_message_shows_as_text(browser, server):
    from selenium.webdriver.common.by import By

    content = f"<b id='injected'>bold</b><script>document.title='pwned'</script> {uuid.uuid4()}"
    server.post(content)
    browser.get(f"http://127.0.0.1:{server.port}/")
    assert any(text.startswith(content) for text in texts(browser))
    assert browser.find_elements(By.ID, "injected") == []
    assert browser.title == "docker-workshop"
