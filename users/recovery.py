"""Links and codes mailed to an address, that prove whoever brings them back reads it.

Each is an `AccountLink` row. Its token (in the link) and its code (typed into the app) are
minted by the worker when it writes the email, and only their keyed hashes (HMAC with the
server's key) are stored, so no copy of the database, even with the key, gives a working link:

- the request that issues a link stores the row without secrets; the mail job carries the
  row's id; `link_mint` draws a fresh token and code and stores their hashes in the statement
  that checks the link is still live. A job that runs again (its worker died) mints again: the
  newest email is the one that works;
- a token is looked up by its hash (unique, indexed);
- a code is checked against the one live link it can belong to, in one statement that first
  takes one of the code's tries (`code_link`): concurrent guesses each take a try, and no
  more than CODE_TRIES of them are ever compared. The statement is the same whether or not the
  email has an account;
- a link is single-use: using it deletes its row in the statement that checks it has not
  expired, so of two requests racing with one link exactly one wins.

A code is 8 characters of Crockford base32 (40 bits), shown `XXXX-XXXX`. Reading one back
ignores case, every kind of space and hyphen, and takes the letters Crockford reads as digits
(O for 0, I and L for 1). A code that has used up its tries is void; its link, whose token
cannot be guessed, still works.
"""

import secrets
import unicodedata
from datetime import datetime, timedelta

from django.db import connection
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.timezone import now

from users.models import AccountLink, PasswordResetRequest, User

Purpose = AccountLink.Purpose

LIFETIMES = {
    Purpose.RESET: timedelta(minutes=30),
    Purpose.VERIFY: timedelta(days=3),
    Purpose.CHANGE: timedelta(hours=24),
    Purpose.UNDO: timedelta(days=7),
}
CODE_TRIES = 5
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_READS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def _hash(what: str, value: str) -> str:
    return salted_hmac(f"focusflow.account-link.{what}", value, algorithm="sha256").hexdigest()


def _code_hash(link_id: int, code: str) -> str:
    return _hash("code", f"{link_id}:{code}")


def normalize_code(text: str) -> str:
    """A code as typed, in the form it was hashed in: compatibility forms folded (fullwidth
    letters), upper case, without any space or hyphen, with the letters Crockford base32 reads
    as digits."""
    text = unicodedata.normalize("NFKC", text).upper()
    kept = (char for char in text if not char.isspace() and unicodedata.category(char) != "Pd")
    return "".join(kept).translate(_CROCKFORD_READS)


def link_issue(*, user: User, purpose: str, email: str, requested_at: datetime | None = None) -> AccountLink:
    """A new link of `purpose` for `user`, to be mailed to `email`; it voids the account's
    earlier links of the same purpose (undo links excepted: each undoes its own change)."""
    requested_at = requested_at or now()
    if purpose != Purpose.UNDO:
        links_void(user=user, purposes=[purpose])
    return AccountLink.objects.create(
        user=user,
        purpose=purpose,
        email=email,
        requested_at=requested_at,
        expires_at=requested_at + LIFETIMES[purpose],
    )


def link_mint(link: AccountLink) -> tuple[str, str | None] | None:
    """A fresh token and code for the link (no code for an undo link), their hashes stored in
    place of any earlier ones; None when the link was used, voided or has expired."""
    token = secrets.token_urlsafe(32)
    code = None
    if link.purpose != Purpose.UNDO:
        digits = "".join(secrets.choice(_CROCKFORD) for _ in range(8))
        code = f"{digits[:4]}-{digits[4:]}"
    minted = AccountLink.objects.filter(pk=link.pk, expires_at__gt=now()).update(
        token_hash=_hash("token", token),
        code_hash=_code_hash(link.pk, normalize_code(code)) if code else "",
        code_tries=0,
    )
    return (token, code) if minted else None


def links_void(*, user: User, purposes) -> None:
    AccountLink.objects.filter(user=user, purpose__in=list(purposes)).delete()


def link_by_token(token: str, *, purposes) -> AccountLink | None:
    """The live link a token belongs to (with its account), if it is of one of `purposes`."""
    if not isinstance(token, str) or not 0 < len(token) <= 200:
        return None
    return (
        AccountLink.objects.select_related("user")
        .filter(token_hash=_hash("token", token), purpose__in=list(purposes), expires_at__gt=now())
        .first()
    )


def code_link(
    *, purpose: str, code: str, email: str | None = None, user: User | None = None
) -> AccountLink | None:
    """The live link of `purpose` of the active account with `email` (or of `user`) whose code
    is `code`, or None. One statement takes a try of the account's newest such link whose code
    still has tries, locking it, so racing guesses queue and each counts; the code is compared
    only once its try is taken, and the last wrong try voids it."""
    q = connection.ops.quote_name
    links, users = q(AccountLink._meta.db_table), q(User._meta.db_table)
    owner = "u.email = %s" if user is None else "u.id = %s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {links} SET code_tries = code_tries + 1
            WHERE id = (
                SELECT l.id FROM {links} l JOIN {users} u ON u.id = l.user_id
                WHERE {owner} AND u.is_active AND l.purpose = %s AND l.expires_at > %s
                  AND l.code_hash <> '' AND l.code_tries < %s
                ORDER BY l.requested_at DESC LIMIT 1
                FOR UPDATE OF l
            )
            RETURNING id, code_hash, code_tries
            """,
            [email if user is None else user.pk, purpose, now(), CODE_TRIES],
        )
        taken = cursor.fetchone()
    if taken is None:
        return None
    link_id, code_hash, tries = taken
    if constant_time_compare(_code_hash(link_id, normalize_code(code)), code_hash):
        return AccountLink.objects.select_related("user").filter(pk=link_id).first()
    if tries >= CODE_TRIES:
        AccountLink.objects.filter(pk=link_id).update(code_hash="")
    return None


def link_spend(link: AccountLink) -> bool:
    """Use the link up; False when it was used, voided or expired meanwhile (another request won)."""
    deleted, _ = AccountLink.objects.filter(pk=link.pk, expires_at__gt=now()).delete()
    return deleted > 0


def address_held(email: str, *, by_other_than: User | None = None) -> bool:
    """Whether an undo link still holds `email` for the account it was taken from: nobody else
    may register it or change to it, or a thief who moved an account away from it could take it
    and leave the undo nothing to put back."""
    held = AccountLink.objects.filter(purpose=Purpose.UNDO, email=email, expires_at__gt=now())
    if by_other_than is not None:
        held = held.exclude(user=by_other_than)
    return held.exists()


def reset_requested(email: str, *, at: datetime) -> None:
    """Record a reset request for `email`: one upsert, whatever the address."""
    PasswordResetRequest.objects.bulk_create(
        [PasswordResetRequest(address=_hash("reset-address", email), requested_at=at)],
        update_conflicts=True,
        unique_fields=["address"],
        update_fields=["requested_at"],
    )


def reset_superseded(email: str, requested_at: datetime) -> bool:
    """Whether a reset was asked for `email` after `requested_at`: then the earlier request's
    link, issued or still to be, is void."""
    return PasswordResetRequest.objects.filter(
        address=_hash("reset-address", email), requested_at__gt=requested_at
    ).exists()


def links_purge(*, at: datetime | None = None) -> int:
    """Delete expired links, and reset requests no link of which could still work; returns how
    many links went."""
    at = at or now()
    deleted, _ = AccountLink.objects.filter(expires_at__lte=at).delete()
    PasswordResetRequest.objects.filter(requested_at__lte=at - LIFETIMES[Purpose.RESET]).delete()
    return deleted
