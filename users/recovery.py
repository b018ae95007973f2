"""Links and codes mailed to an address, that prove whoever brings them back reads it.

Each is an `AccountLink` row: a random `seed`, from which the token (in the link) and the code
(typed into the app) are derived with the server's key (`salted_hmac`, DJANGO_SECRET_KEY), and
their keyed hashes, by which requests find and check them. So:

- the database holds neither the token nor the code, and neither does the job queue: a mail
  job carries the link's id, and the worker derives both when it writes the email (again,
  identically, if it runs twice);
- a token is looked up by its hash (unique, indexed); a code is compared with the one link it
  can belong to, in constant time;
- a link is single-use: using it deletes its row in the statement that checks it has not
  expired, so of two requests racing with one link exactly one wins.

A code is 8 characters of Crockford base32 (40 bits), shown `XXXX-XXXX`. Reading one back
ignores case, spaces and hyphens, and takes the letters Crockford reads as digits (O for 0,
I and L for 1). A link's code allows CODE_TRIES wrong tries; then the code is void and the
link, whose token is not guessable, still works.
"""

import base64
import secrets
from datetime import datetime, timedelta

from django.db.models import Case, F, Q, Value, When
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.timezone import now

from users.models import AccountLink, User

Purpose = AccountLink.Purpose

LIFETIMES = {
    Purpose.RESET: timedelta(minutes=30),
    Purpose.VERIFY: timedelta(days=3),
    Purpose.CHANGE: timedelta(hours=24),
    Purpose.UNDO: timedelta(days=7),
}
CODE_TRIES = 5
CODE_LENGTH = 8
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_READS = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


def _mac(what: str, value: str) -> bytes:
    return salted_hmac(f"focusflow.account-link.{what}", value, algorithm="sha256").digest()


def token_of(link: AccountLink) -> str:
    """The token the link's email carries (43 URL-safe characters, 256 bits)."""
    return base64.urlsafe_b64encode(_mac("token", link.seed)).rstrip(b"=").decode()


def code_of(link: AccountLink) -> str | None:
    """The code the link's email carries, as shown (`XXXX-XXXX`); None for undo links."""
    if link.purpose == Purpose.UNDO:
        return None
    number = int.from_bytes(_mac("code", link.seed)[:5])
    digits = "".join(_CROCKFORD[(number >> shift) & 31] for shift in range(35, -1, -5))
    return f"{digits[:4]}-{digits[4:]}"


def _token_hash(token: str) -> str:
    return _mac("token-hash", token).hex()


def _code_hash(seed: str, code: str) -> str:
    return _mac("code-hash", f"{seed}:{code}").hex()


def normalize_code(text: str) -> str:
    """A code as typed, in the form it was hashed in: upper case, without spaces and hyphens,
    with the letters Crockford base32 reads as digits."""
    return text.upper().translate(_CROCKFORD_READS)


def link_issue(*, user: User, purpose: str, email: str, requested_at: datetime | None = None) -> AccountLink:
    """A new link of `purpose` for `user`, mailed to `email`; it voids the account's earlier
    links of the same purpose (undo links excepted: each undoes its own change)."""
    requested_at = requested_at or now()
    if purpose != Purpose.UNDO:
        links_void(user=user, purposes=[purpose])
    link = AccountLink(
        user=user,
        purpose=purpose,
        email=email,
        seed=secrets.token_hex(32),
        requested_at=requested_at,
        expires_at=requested_at + LIFETIMES[purpose],
    )
    link.token_hash = _token_hash(token_of(link))
    code = code_of(link)
    link.code_hash = _code_hash(link.seed, normalize_code(code)) if code else ""
    link.save()
    return link


def links_void(*, user: User, purposes) -> None:
    AccountLink.objects.filter(user=user, purpose__in=list(purposes)).delete()


def link_by_token(token: str, *, purposes) -> AccountLink | None:
    """The live link a token belongs to (with its account), if it is of one of `purposes`."""
    if not isinstance(token, str) or not 0 < len(token) <= 200:
        return None
    return (
        AccountLink.objects.select_related("user")
        .filter(token_hash=_token_hash(token), purpose__in=list(purposes), expires_at__gt=now())
        .first()
    )


def link_with_code(*, user: User, purpose: str) -> AccountLink | None:
    """The account's live link of `purpose` whose code may still be tried."""
    return (
        AccountLink.objects.select_related("user")
        .filter(user=user, purpose=purpose, expires_at__gt=now())
        .exclude(code_hash="")
        .order_by("-requested_at")
        .first()
    )


def code_matches(link: AccountLink, code: str) -> bool:
    """Whether `code` is the link's. A wrong one uses up a try (atomically, so racing guesses
    each count), and the CODE_TRIES-th voids the code."""
    if constant_time_compare(_code_hash(link.seed, normalize_code(code)), link.code_hash):
        return True
    last_try = Q(code_tries__gte=CODE_TRIES - 1)
    AccountLink.objects.filter(pk=link.pk).update(
        code_tries=F("code_tries") + 1,
        code_hash=Case(When(last_try, then=Value("")), default=F("code_hash")),
    )
    return False


def link_spend(link: AccountLink) -> bool:
    """Use the link up; False when it was used, voided or expired meanwhile (another request won)."""
    deleted, _ = AccountLink.objects.filter(pk=link.pk, expires_at__gt=now()).delete()
    return deleted > 0


def links_purge(*, at: datetime | None = None) -> int:
    """Delete expired links; returns how many went."""
    deleted, _ = AccountLink.objects.filter(expires_at__lte=at or now()).delete()
    return deleted
