import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError


@cache
def time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    """An IANA name such as `Europe/Paris`, checked against the zone list (client input never
    reaches the filesystem)."""
    if value not in time_zone_names():
        raise ValidationError(
            "Unknown time zone %(value)r; use an IANA name such as Europe/Paris.",
            code="unknown_time_zone",
            params={"value": value[:64]},
        )
