import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError

# Files in the zone database that are not places: the server's own zone, and the like.
_NOT_ZONES = {"localtime", "posixrules", "Factory"}


@cache
def time_zone_names() -> frozenset[str]:
    return frozenset(
        name
        for name in zoneinfo.available_timezones()
        if name not in _NOT_ZONES and not name.startswith(("posix/", "right/"))
    )


def validate_time_zone(value: str) -> None:
    """An IANA name such as `Europe/Paris`, checked against the zone list (client input never
    reaches the filesystem)."""
    if value not in time_zone_names():
        raise ValidationError(
            "Unknown time zone %(value)r; use an IANA name such as Europe/Paris.",
            code="unknown_time_zone",
            params={"value": value[:64]},
        )
