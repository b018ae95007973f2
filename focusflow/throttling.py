"""Per-client-address rate limits counted atomically in the shared cache.

DRF's SimpleRateThrottle keeps a list of timestamps and writes it back with get/set, so
concurrent requests on several workers can overwrite each other's counts and slip past the
limit. This throttle counts a fixed window with `cache.add` + `cache.incr`, which Redis does
atomically, so every worker and app server shares one exact count.
"""

import math

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class AuthRateThrottle(SimpleRateThrottle):
    """The login/register limit, `AUTH_THROTTLE_RATE` per client address; None turns it off."""

    scope = "auth"

    def get_rate(self) -> str | None:
        return settings.AUTH_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str:
        return f"throttle:{self.scope}:{self.get_ident(request)}"

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        now = self.timer()
        window = math.floor(now / self.duration)
        key = f"{self.get_cache_key(request, view)}:{window}"
        self.cache.add(key, 0, timeout=self.duration + 1)
        try:
            count = self.cache.incr(key)
        except ValueError:  # evicted between add and incr
            self.cache.add(key, 1, timeout=self.duration + 1)
            count = 1
        self._wait = (window + 1) * self.duration - now
        # None: the cache is down (django-redis IGNORE_EXCEPTIONS). Fail open rather than
        # lock everybody out of their account.
        return count is None or count <= self.num_requests

    def wait(self) -> float:
        return max(self._wait, 1)


class LoginRateThrottle(AuthRateThrottle):
    scope = "login"


class RegisterRateThrottle(AuthRateThrottle):
    scope = "register"
