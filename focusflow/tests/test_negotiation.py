"""Content negotiation with remembered answers answers exactly as DRF's own does."""

import pytest
from django.http import Http404
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from focusflow import negotiation
from focusflow.renderers import JSONRenderer

ME = "/api/users/me/"
ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/*",
    "application/json; indent=4",
    "text/html",  # 406
    "text/html, application/json;q=0.9",
    "application/xml",  # 406
    "application/json;q=0",
    "image/png, */*;q=0.1",
]
QUERIES = ["", "?format=json", "?format=xml"]


class OtherJSON(JSONRenderer):
    media_type = "application/vnd.focusflow+json"
    format = "vnd"


def choice(negotiator, accept, query, renderers):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get(ME + query, **headers))
    try:
        renderer, media_type = negotiator.select_renderer(request, renderers)
    except (exceptions.NotAcceptable, Http404) as refusal:  # 404: a format no renderer has
        return type(refusal).__name__
    return type(renderer).__name__, media_type


@pytest.mark.parametrize(
    "renderers", [[JSONRenderer()], [JSONRenderer(), OtherJSON()], [OtherJSON(), JSONRenderer()]]
)
def test_every_choice_is_drf_own_first_time_and_remembered(renderers):
    negotiation._answers.clear()
    ours = negotiation.ContentNegotiation()
    cases = [(accept, query) for accept in ACCEPTS for query in QUERIES]
    first = [choice(ours, accept, query, renderers) for accept, query in cases]
    again = [choice(ours, accept, query, renderers) for accept, query in cases]
    drf = [choice(DefaultContentNegotiation(), accept, query, renderers) for accept, query in cases]
    assert first == again == drf
    assert "NotAcceptable" in drf
    assert negotiation._answers  # remembered...
    assert not {key[0] for key in negotiation._answers} & {"text/html", "application/xml"}  # ...not refusals


def test_an_answer_is_remembered_for_its_renderers_only():
    negotiation._answers.clear()
    ours = negotiation.ContentNegotiation()
    for renderers in ([JSONRenderer(), OtherJSON()], [OtherJSON(), JSONRenderer()], [OtherJSON()]):
        for accept in ("*/*", None):
            assert choice(ours, accept, "", renderers) == choice(
                DefaultContentNegotiation(), accept, "", renderers
            )


def test_over_http_a_refusal_stays_a_406_and_a_match_a_200(alice_client):
    for _ in range(2):
        assert alice_client.get(ME, HTTP_ACCEPT="text/html").status_code == 406
        response = alice_client.get(ME, HTTP_ACCEPT="application/json")
        assert (response.status_code, response["Content-Type"]) == (200, "application/json")


def test_the_table_stays_small_whatever_clients_send():
    negotiation._answers.clear()
    ours, renderers = negotiation.ContentNegotiation(), [JSONRenderer()]
    for n in range(negotiation._ANSWERS_MAX + 50):
        assert choice(ours, f"application/json, x/{n}", "", renderers) == ("JSONRenderer", "application/json")
    assert 0 < len(negotiation._answers) <= negotiation._ANSWERS_MAX
    long_header = "application/json, " + "x/y, " * 100
    assert choice(ours, long_header, "", renderers) == ("JSONRenderer", "application/json")
    assert all(key[0] != long_header for key in negotiation._answers)


def test_it_is_the_class_every_api_view_uses():
    assert api_settings.DEFAULT_CONTENT_NEGOTIATION_CLASS is negotiation.ContentNegotiation
    assert APIView.content_negotiation_class is negotiation.ContentNegotiation
