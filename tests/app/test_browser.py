"""The HTML page in a real headless browser: Debian's chromium and chromedriver."""

import functools
import http.server
import threading
import uuid

import pytest

from chromium import chromium
from harness import query

pytestmark = pytest.mark.browser


def WebDriverWait(*args):  # noqa: N802 - selenium's name; imported when used
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(*args)


@pytest.fixture(scope="module")
def browser():
    driver = chromium()
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
    WebDriverWait(browser, 10).until(
        lambda b: any(text.startswith(content) for text in texts(b)),
        f"{content!r} never showed in the list")


def test_page_lists_the_newest_messages_and_links_to_older_ones(browser, server, cluster):
    from selenium.webdriver.common.by import By

    for n in range(101 - query(cluster, "SELECT count(*) FROM messages")[0][0]):
        server.post(f"so that there is an older page {n}")
    browser.get(f"http://127.0.0.1:{server.port}/")
    shown = [text.rsplit(" #", 1)[0] for text in texts(browser)]
    newest = query(cluster, "SELECT content FROM messages ORDER BY id DESC LIMIT 100")
    assert shown == [content for (content,) in reversed(newest)]
    browser.find_element(By.LINK_TEXT, "Older messages").click()
    WebDriverWait(browser, 10).until(lambda b: "before=" in b.current_url)
    older = query(cluster, "SELECT content FROM messages ORDER BY id DESC OFFSET 100 LIMIT 100")
    assert [text.rsplit(" #", 1)[0] for text in texts(browser)] == [
        content for (content,) in reversed(older)]


def test_page_policy_blocks_inline_script(browser, server):
    # What a browser enforces from the page's Content-Security-Policy.
    browser.get(f"http://127.0.0.1:{server.port}/")
    browser.execute_script("""
        const script = document.createElement('script');
        script.textContent = "document.title = 'pwned'";
        document.body.appendChild(script);""")
    assert browser.title == "docker-workshop"


@pytest.fixture
def other_site(tmp_path):
    """Another site (another origin): a page served from a folder on its own port."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=tmp_path)
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    yield tmp_path, f"http://127.0.0.1:{site.server_port}"
    site.shutdown()
    site.server_close()


def test_another_site_cannot_frame_the_page(browser, server, other_site):
    from selenium.webdriver.common.by import By

    folder, site_url = other_site
    (folder / "frame.html").write_text(f'<iframe id="framed" src="http://127.0.0.1:'
                                       f'{server.port}/"></iframe><p id="loaded">here</p>')
    browser.get(f"{site_url}/frame.html")
    WebDriverWait(browser, 10).until(lambda b: b.execute_script(
        "return document.readyState === 'complete'"))  # after the frame loaded
    browser.switch_to.frame("framed")
    try:
        assert browser.find_elements(By.ID, "messages") == []  # refused by the browser
    finally:
        browser.switch_to.default_content()


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
