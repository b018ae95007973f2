from django.db import connection
from django.http import JsonResponse
from django.urls import path


def one_row(request, pk: int):
    """One indexed query (the primary key), one JSON object."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, email, display_name, timezone, daily_goal_minutes FROM users_user WHERE id = %s", [pk]
        )
        row = cursor.fetchone()
    keys = ("id", "email", "display_name", "timezone", "daily_goal_minutes")
    return JsonResponse(dict(zip(keys, row, strict=True)))


urlpatterns = [path("floor/<int:pk>/", one_row)]
