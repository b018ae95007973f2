"""The admin site as a whole: its name, its link out, its formats, and what every registered
model's pages cost and show. Each app's own admin rules are tested in that app."""

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats
from django.utils.html import escape

from focusflow.core.display import date_text, datetime_text, excerpt
from focusflow.testing import T0
from focusflow.tests.admin_rows import add_rows

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)


def _changelist(model) -> str:
    return reverse(admin_urlname(model._meta, "changelist"))


def test_the_admin_is_named_focusflow_and_view_site_opens_the_api_docs(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert "<title>Site administration | FocusFlow administration</title>" in page
    assert '<a href="/admin/">FocusFlow administration</a>' in page
    assert '<a href="/api/docs/">View site</a>' in page
    assert "Django administration" not in page


def test_groups_are_not_in_the_admin(admin_client):
    assert Group not in admin.site._registry
    assert admin_client.get("/admin/auth/group/").status_code == 404
    assert "/admin/auth/" not in admin_client.get("/admin/").content.decode()


def test_dates_and_times_read_to_the_second_with_their_zone():
    assert formats.date_format(T0, "DATETIME_FORMAT") == "2026-11-20 09:00:00 UTC"
    assert formats.date_format(T0, "SHORT_DATETIME_FORMAT") == "2026-11-20 09:00:00 UTC"
    assert formats.date_format(T0, "DATE_FORMAT") == "2026-11-20"
    assert datetime_text(T0, "Europe/Paris") == "2026-11-20 10:00:00 CET"
    assert datetime_text(T0, "America/Los_Angeles") == "2026-11-20 01:00:00 PST"
    assert date_text(T0, "Pacific/Kiritimati") == "2026-11-20"
    assert date_text(T0.replace(hour=23), "Pacific/Kiritimati") == "2026-11-21"


def test_an_excerpt_is_one_line_and_marks_the_cut():
    assert excerpt("Short.", 10) == "Short."
    assert excerpt("Two\n\nlines", 10) == "Two lines"
    assert excerpt("A sentence that is too long", 12) == "A sentence…"


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label_lower)
def test_a_changelist_costs_as_many_queries_for_many_rows_as_for_few(admin_client, model):
    url = _changelist(model)
    add_rows(model, 3)
    admin_client.get(url)  # the first request of a session loads a few things once

    def shown() -> tuple[int, list[str]]:
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url)
        assert response.status_code == 200
        changelist = response.context["cl"]
        assert len(changelist.result_list) == changelist.result_count  # every row on the page
        return changelist.result_count, [query["sql"] for query in queries]

    few_rows, few = shown()
    add_rows(model, 6)
    many_rows, many = shown()
    assert many_rows == few_rows + 6
    assert len(many) == len(few), "\n".join(many)


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label_lower)
def test_every_change_page_opens_and_names_its_object(admin_client, model):
    add_rows(model, 1)
    obj = model._default_manager.order_by("-pk").first()
    page = admin_client.get(reverse(admin_urlname(model._meta, "change"), args=[obj.pk]))
    assert page.status_code == 200
    name = page.context["subtitle"]
    assert escape(name) in page.content.decode()
    assert "object (" not in name


def test_the_email_box_sends_the_other_filters_the_search_and_the_order_along(admin_client):
    page = admin_client.get(
        "/admin/focus_sessions/focussession/",
        {"paused": "yes", "q": "deep", "o": "2", "user_email": "a@b.co"},
    ).content.decode()
    start = page.index('<details data-filter-title="user (email)"')
    box = page[start : page.index("</details>", start)]
    for name, value in [("paused", "yes"), ("q", "deep"), ("o", "2")]:
        assert f'<input type="hidden" name="{name}" value="{value}">' in box
    assert 'type="email" name="user_email" value="a@b.co"' in box
    assert 'href="?o=2&amp;paused=yes&amp;q=deep"' in box  # "All": the same list without the address
