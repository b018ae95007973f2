"""A URLconf whose view loses the database after it ran, so the error comes from a middleware
(the session saved on the way out), not from any view."""

from django.db import connection
from django.http import HttpResponse
from django.urls import include, path

from focusflow.tests.db_outage import cut_database


def save_session_after_the_database_went(request):
    request.session["visited"] = True  # SessionMiddleware saves it after this view returns
    cut_database()
    return HttpResponse("ok")


def lose_the_database(request):
    cut_database()
    return HttpResponse("ok")


class QueriesOnTheWayOut:
    """A middleware that asks the database after the view answered (API requests pass the
    session middleware by, so this stands in for whatever middleware might)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return response


urlpatterns = [
    path("admin-ish/", save_session_after_the_database_went),
    path("api/middleware-ish/", lose_the_database),
    path("", include("focusflow.urls")),
]
