"""One address, one account: look-alike spellings of an address are the same account, and
invisible characters are refused (users.emails)."""

import importlib

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from users.emails import InvalidEmail, normalize_email
from users.models import User
from users.tests.factories import PASSWORD

REGISTER = "/api/users/register/"
LOGIN = "/api/users/login/"

LOOK_ALIKES = [
    pytest.param("UserX@Example.COM", id="case"),
    pytest.param("ｕｓｅｒｘ＠ｅｘａｍｐｌｅ．ｃｏｍ", id="fullwidth"),
    pytest.param(" userx@example.com ", id="spaces-around"),
    pytest.param("userx@EXAMPLE.com", id="domain-case"),
]
INVISIBLE = [
    pytest.param("user\u200bx@example.com", id="zero-width-space"),
    pytest.param("userx\u200d@example.com", id="zero-width-joiner"),
    pytest.param("\u202euserx@example.com", id="right-to-left-override"),
    pytest.param("user\u200ex@example.com", id="left-to-right-mark"),
    pytest.param("user\u2066x\u2069@example.com", id="bidi-isolate"),
    pytest.param("user\u00adx@example.com", id="soft-hyphen"),
    pytest.param("\ufeffuserx@example.com", id="byte-order-mark"),
    pytest.param("user\u3164x@example.com", id="hangul-filler"),
    pytest.param("userx\ufe0f@example.com", id="variation-selector"),
    pytest.param("user\tx@example.com", id="tab"),
    pytest.param("user\x00x@example.com", id="nul"),
    pytest.param("user x@example.com", id="space-inside"),
]


@pytest.mark.parametrize("spelling", LOOK_ALIKES)
def test_look_alike_spellings_normalise_to_one_address(spelling):
    assert normalize_email(spelling) == "userx@example.com"


@pytest.mark.parametrize(
    ("spelling", "stored"),
    [
        ("user@cafe\u0301.example", "user@café.example"),  # decomposed é
        ("user@CAFÉ.example", "user@café.example"),
        ("user@xn--caf-dma.example", "user@café.example"),  # the same domain, as an A-label
        ("user@ﬁrm.example", "user@firm.example"),  # a ligature
        ("ﬁnn@example.com", "finn@example.com"),
        ("user@faß.de", "user@faß.de"),  # IDNA 2008: not fass.de, which is another domain
        ("user@[192.0.2.1]", "user@[192.0.2.1]"),
        ("not-an-address", "not-an-address"),
    ],
)
def test_the_domain_goes_through_idna_and_the_whole_address_through_nfkc(spelling, stored):
    assert normalize_email(spelling) == stored
    assert normalize_email(stored) == stored  # idempotent


@pytest.mark.parametrize("spelling", INVISIBLE)
def test_invisible_control_and_bidi_characters_are_refused(spelling):
    with pytest.raises(InvalidEmail, match="invisible, control or bidirectional"):
        normalize_email(spelling)


@pytest.mark.parametrize("domain", ["xn--zz.com", "a..com", "-bad-.com", "☃.net", "x" * 64 + ".com"])
def test_a_domain_idna_refuses_is_refused(domain):
    with pytest.raises(InvalidEmail, match="not a valid domain"):
        normalize_email(f"user@{domain}")


# --- over the API ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "spelling", [*LOOK_ALIKES, pytest.param("ｕｓｅｒＸ@example.com", id="fullwidth-part")]
)
def test_registering_a_look_alike_of_a_taken_address_is_a_400(api_client, spelling):
    assert api_client.post(REGISTER, {"email": "userx@example.com", "password": PASSWORD}).status_code == 201
    response = api_client.post(REGISTER, {"email": spelling, "password": PASSWORD})
    assert response.status_code == 400
    assert response.json() == {"email": ["A user with this email already exists."]}
    assert User.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "first", ["user@café.example", "user@cafe\u0301.example", "user@xn--caf-dma.example"]
)
@pytest.mark.parametrize(
    "second", ["user@café.example", "user@cafe\u0301.example", "user@CAFE\u0301.EXAMPLE"]
)
def test_composed_decomposed_and_punycode_domains_are_one_account(api_client, first, second):
    created = api_client.post(REGISTER, {"email": first, "password": PASSWORD})
    assert created.status_code == 201, created.content
    assert created.json()["email"] == "user@café.example"
    assert api_client.post(REGISTER, {"email": second, "password": PASSWORD}).status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", INVISIBLE)
@pytest.mark.parametrize("path", [REGISTER, LOGIN])
def test_an_address_with_invisible_characters_is_a_400_on_email(api_client, spelling, path):
    response = api_client.post(path, {"email": spelling, "password": PASSWORD})
    assert response.status_code == 400
    assert "email" in response.json()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_the_invisible_character_message_says_what_is_wrong(api_client):
    response = api_client.post(REGISTER, {"email": "user\u200bx@example.com", "password": PASSWORD})
    assert response.json() == {
        "email": ["Email addresses cannot contain invisible, control or bidirectional formatting characters."]
    }


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", LOOK_ALIKES)
def test_any_spelling_of_the_address_logs_in(api_client, spelling):
    User.objects.create_user("userx@example.com", PASSWORD)
    response = api_client.post(LOGIN, {"email": spelling, "password": PASSWORD})
    assert response.status_code == 200, response.content


# --- the admin ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_refuses_a_look_alike_of_an_existing_account(admin_client):
    User.objects.create_user("userx@example.com", PASSWORD)
    passwords = {"password1": "a-strong-passphrase", "password2": "a-strong-passphrase"}
    response = admin_client.post("/admin/users/user/add/", {"email": "ｕｓｅｒＸ@example.com", **passwords})
    assert response.status_code == 200
    assert b"already exists" in response.content
    response = admin_client.post("/admin/users/user/add/", {"email": "user\u200bx@example.com", **passwords})
    assert response.status_code == 200
    assert b"invisible, control or bidirectional" in response.content
    assert User.objects.count() == 2  # the admin's own account and userx


# --- the data migration ---------------------------------------------------------------------

BEFORE, AFTER = [("users", "0003_sync_counters")], [("users", "0004_normalise_emails")]
normalise_emails = importlib.import_module("users.migrations.0004_normalise_emails").normalise_emails


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _migrate_to_the_latest():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_migration_normalises_stored_addresses():
    apps = _migrate(BEFORE)
    Historical = apps.get_model("users", "User")  # no save(): stores the address as given
    fullwidth = Historical.objects.create(email="ｄａｎａ@example.com", password="x")
    punycode = Historical.objects.create(email="eve@xn--caf-dma.example", password="x")
    plain = Historical.objects.create(email="frank@example.com", password="x")
    try:
        Migrated = _migrate(AFTER).get_model("users", "User")
        assert Migrated.objects.get(pk=fullwidth.pk).email == "dana@example.com"
        assert Migrated.objects.get(pk=punycode.pk).email == "eve@café.example"
        assert Migrated.objects.get(pk=plain.pk).email == "frank@example.com"
    finally:
        _migrate_to_the_latest()


@pytest.mark.django_db(transaction=True)
def test_the_migration_stops_with_a_list_of_collisions_and_changes_nothing():
    apps = _migrate(BEFORE)
    Historical = apps.get_model("users", "User")
    real = Historical.objects.create(email="userx@example.com", password="x")
    twin = Historical.objects.create(email="ｕｓｅｒｘ@example.com", password="x")
    spoof = Historical.objects.create(email="user\u200bx@example.com", password="x")
    fine = Historical.objects.create(email="Grace@Example.com", password="x")
    try:
        with pytest.raises(CommandError) as raised:
            normalise_emails(apps, None)
        message = str(raised.value)
        assert "resolved by hand" in message
        assert f"user {real.pk}" in message and f"user {twin.pk}" in message
        assert f"user {spoof.pk} 'user\\u200bx@example.com': Email addresses cannot contain" in message
        assert f"user {fine.pk}" not in message
        stored = dict(Historical.objects.values_list("pk", "email"))
        assert stored[twin.pk] == "ｕｓｅｒｘ@example.com"
        assert stored[fine.pk] == "Grace@Example.com"  # nothing changed, not even the fine one
    finally:
        Historical.objects.all().delete()
        _migrate_to_the_latest()
