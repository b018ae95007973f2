"""The pages people open in a browser, in a real headless Chromium against gunicorn:
the interactive API docs and the admin. Static assets (Swagger UI, admin CSS/JS) must come
from our own server, with debug off, as in production."""

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.test import Client
from django.urls import reverse

from focusflow.testing import bearer
from focusflow.tests.admin_rows import add_rows
from users.models import User
from users.tests.factories import UserFactory

pytestmark = [
    pytest.mark.live,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


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


def test_the_api_docs_work_under_their_content_security_policy(gunicorn, page):
    # Every violation the browser reports, from before the page's first script runs.
    page.add_init_script(
        "window.cspViolations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    console = []
    page.on("console", lambda message: console.append(message.text))
    response = page.goto(f"{gunicorn.url}/api/docs/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
    page.locator(".opblock-get:has-text('/api/users/me/')").first.locator(".opblock-summary").click()
    page.wait_for_selector(".opblock.is-open")
    assert page.evaluate("window.cspViolations") == []
    assert not [line for line in console if "Content Security Policy" in line], console
    assert page.failures == []


def test_the_api_docs_can_call_the_api_with_a_token(gunicorn, page):

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


# Every registered model's list and one change form, as an admin sees them on a laptop screen
# with the navigation sidebar open.
ADMIN_VIEWPORT = {"width": 1400, "height": 1000}
ADMIN_MODELS = sorted(admin.site._registry, key=lambda model: model._meta.label)

# What does not fit: the page scrolling sideways, or a table (the changelist's own scroller
# included) wider than the box it sits in.
TOO_WIDE = """() => {
    const wide = [];
    const root = document.documentElement;
    if (root.scrollWidth > root.clientWidth) {
        wide.push(`the page is ${root.scrollWidth} px wide in a ${root.clientWidth} px window`);
    }
    for (const box of document.querySelectorAll('#changelist .results, #content-main')) {
        if (box.scrollWidth > box.clientWidth) {
            wide.push(`${box.id || box.className} holds ${box.scrollWidth} px in ${box.clientWidth} px`);
        }
    }
    for (const table of document.querySelectorAll('#content table')) {
        const box = table.parentElement;
        if (table.offsetWidth > box.clientWidth) {
            wide.push(`table ${table.id} is ${table.offsetWidth} px in ${box.clientWidth} px`);
        }
    }
    return wide;
}"""


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("admin-screenshots")
    print(f"\nadmin screenshots: {folder}")  # noqa: T201 (for the person running the suite)
    return folder


@pytest.fixture
def admin_page(gunicorn, browser, page):
    """A page at 1400 x 1000 px, logged in to the admin as a superuser (a session made here,
    so no password hashing is needed)."""
    superuser = User.objects.create_superuser("root@example.com", "an-admin-passphrase")
    client = Client()
    client.force_login(superuser)
    page.set_viewport_size(ADMIN_VIEWPORT)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": gunicorn.url}])
    return page


def _fits(page, url: str, shot: Path) -> list[str]:
    page.goto(url)
    page.wait_for_selector("#content-main")
    assert page.is_visible("#nav-sidebar"), "the navigation sidebar should be open"
    page.screenshot(path=shot, full_page=True)
    return page.evaluate(TOO_WIDE)


@pytest.mark.parametrize("model", ADMIN_MODELS, ids=lambda model: model._meta.label_lower)
def test_every_admin_list_and_form_fits_a_1400_px_screen(gunicorn, admin_page, screenshots, model):
    add_rows(model, 6)
    obj = model._default_manager.order_by("-pk").first()
    name = model._meta.label_lower.replace(".", "-")
    changelist = reverse(admin_urlname(model._meta, "changelist"))
    change = reverse(admin_urlname(model._meta, "change"), args=[obj.pk])

    wide_list = _fits(admin_page, gunicorn.url + changelist, screenshots / f"{name}-list.png")
    assert admin_page.locator("#result_list tbody tr").count() >= 6
    wide_form = _fits(admin_page, gunicorn.url + change, screenshots / f"{name}-change.png")
    assert wide_list == [], f"{changelist}: {wide_list} (see {screenshots})"
    assert wide_form == [], f"{change}: {wide_form} (see {screenshots})"
    assert admin_page.failures == []
