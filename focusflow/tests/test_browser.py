"""The pages people open in a browser, in a real headless Chromium against gunicorn:
the interactive API docs and the admin. Static assets (Swagger UI, admin CSS/JS) must come
from our own server, with debug off, as in production."""

import os
import shutil

import pytest
from playwright.sync_api import sync_playwright

from users.models import User

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = [
    pytest.mark.live,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)")
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are
    # still plain synchronous code, which Django would otherwise refuse.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
            )
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    failures: list[str] = []
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("requestfailed", lambda r: failures.append(f"failed {r.url}"))
    page.failures = failures
    yield page
    context.close()


def test_the_api_docs_render_every_area_from_local_assets(gunicorn, page):
    page.goto(f"{gunicorn.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
    text = page.inner_text(".swagger-ui")
    for path in ["/api/users/register/", "/api/sessions/start/", "/api/journals/{id}/", "/api/quotes/today/"]:
        assert path in text
    assert page.failures == []
    loaded = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded
    assert all(url.startswith(gunicorn.url) for url in loaded), loaded


def test_the_api_docs_can_call_the_api_with_a_token(gunicorn, page):
    from conftest import bearer
    from users.tests.factories import UserFactory

    token = bearer(UserFactory(email="docs@example.com")).split()[1]
    page.goto(f"{gunicorn.url}/api/docs/")
    page.click("button.authorize")
    page.fill(".auth-container input", token)
    page.click(".auth-btn-wrapper button.authorize")
    page.click(".btn-done")
    me = page.locator(".opblock-get:has-text('/api/users/me/')").first
    me.locator(".opblock-summary").click()
    me.locator("button.try-out__btn").click()
    me.locator("button.execute").click()
    status = me.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for(timeout=15_000)
    assert status.inner_text().strip().startswith("200")
    assert "docs@example.com" in me.locator(".live-responses-table").inner_text()


def test_an_admin_logs_in_and_finds_a_user(gunicorn, page, settings):
    # Hash with the server's own hashers (the suite's fast test hasher is unknown to it).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    User.objects.create_superuser("root@example.com", "an-admin-passphrase")
    User.objects.create_user("findme@example.com", "a-user-passphrase")
    page.goto(f"{gunicorn.url}/admin/")
    page.fill("#id_username", "root@example.com")
    page.fill("#id_password", "an-admin-passphrase")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    page.goto(f"{gunicorn.url}/admin/users/user/?q=findme")
    assert "findme@example.com" in page.inner_text("#result_list")
    assert page.failures == []
