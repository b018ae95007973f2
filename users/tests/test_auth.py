"""Register, login, refresh, logout: every row of the contract's auth endpoints."""

import time
from datetime import timedelta

import jwt
import pytest
import time_machine
from django.conf import settings
from rest_framework_simplejwt.tokens import AccessToken

from focusflow.testing import T0, bearer
from users.models import User
from users.tests.factories import PASSWORD, UserFactory
from users.tokens import refresh_token_for, token_version

pytestmark = pytest.mark.django_db

REGISTER = "/api/users/register/"
LOGIN = "/api/users/login/"
REFRESH = "/api/users/token/refresh/"
LOGOUT = "/api/users/logout/"
ME = "/api/users/me/"


def register(client, **body):
    body.setdefault("password", PASSWORD)
    return client.post(REGISTER, body, format="json")


# --- register -------------------------------------------------------------------------------


def test_register_creates_the_account_and_returns_the_user_object(api_client):
    response = register(api_client, email="New.User@Example.COM", display_name="New", timezone="Europe/Paris")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {
        *("id", "email", "email_verified", "pending_email"),
        *("display_name", "timezone", "daily_goal_minutes", "date_joined"),
    }
    assert (body["email_verified"], body["pending_email"]) == (False, None)
    assert body["email"] == "new.user@example.com"
    assert body["display_name"] == "New"
    assert body["timezone"] == "Europe/Paris"
    assert body["daily_goal_minutes"] is None
    assert "password" not in response.content.decode()
    user = User.objects.get(pk=body["id"])
    assert user.check_password(PASSWORD)


def test_register_defaults_timezone_to_utc_and_display_name_to_empty(api_client):
    body = register(api_client, email="plain@example.com").json()
    assert body["timezone"] == "UTC"
    assert body["display_name"] == ""


def test_register_stores_the_password_with_argon2(api_client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    register(api_client, email="argon@example.com")
    assert User.objects.get(email="argon@example.com").password.startswith("argon2")


@pytest.mark.parametrize("email", ["alice@example.com", "ALICE@example.com", " Alice@Example.com "])
def test_register_refuses_an_email_that_is_taken_in_any_case(api_client, alice, email):
    response = register(api_client, email=email)
    assert response.status_code == 400
    assert response.json()["email"] == ["A user with this email already exists."]
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD}, "email"),
        ({"email": "", "password": PASSWORD}, "email"),
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "a" * 250 + "@x.io", "password": PASSWORD}, "email"),
        ({"email": "nul\x00@example.com", "password": PASSWORD}, "email"),
        ({"email": ["a@x.io"], "password": PASSWORD}, "email"),
        ({"email": "ok@example.com"}, "password"),
        ({"email": "ok@example.com", "password": "short7!"}, "password"),
        ({"email": "ok@example.com", "password": "password"}, "password"),
        ({"email": "ok@example.com", "password": "12345678901"}, "password"),
        ({"email": "ok@example.com", "password": "x" * 257}, "password"),
        ({"email": "ok@example.com", "password": 12345678}, "password"),
        ({"email": "ok@example.com", "password": PASSWORD, "timezone": "Mars/Olympus"}, "timezone"),
        ({"email": "ok@example.com", "password": PASSWORD, "timezone": "../../etc/passwd"}, "timezone"),
        ({"email": "ok@example.com", "password": PASSWORD, "timezone": None}, "timezone"),
        ({"email": "ok@example.com", "password": PASSWORD, "display_name": "x" * 101}, "display_name"),
    ],
)
def test_register_rejects_bad_fields_with_a_400_on_that_field(api_client, body, field):
    response = api_client.post(REGISTER, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not User.objects.exists()


def test_register_rejects_a_password_too_similar_to_the_email(api_client):
    response = register(api_client, email="sunflower123@example.com", password="sunflower123")
    assert response.status_code == 400
    assert "password" in response.json()


def test_register_reports_every_bad_field_at_once(api_client, alice):
    response = register(api_client, email="alice@example.com", password="short")
    assert response.status_code == 400
    assert set(response.json()) == {"email", "password"}


def test_register_ignores_attempts_to_become_staff(api_client):
    response = register(api_client, email="sneaky@example.com", is_staff=True, is_superuser=True)
    assert response.status_code == 201
    user = User.objects.get(email="sneaky@example.com")
    assert not user.is_staff
    assert not user.is_superuser


def test_register_ignores_a_stale_authorization_header(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert register(api_client, email="fresh@example.com").status_code == 201


# --- login ----------------------------------------------------------------------------------


def test_login_returns_an_access_and_a_refresh_token(api_client, alice):
    response = api_client.post(LOGIN, {"email": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    access = response.json()["access"]
    assert AccessToken(access)["user_id"] == alice.pk
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert api_client.get(ME).json()["email"] == "alice@example.com"


def test_login_email_is_case_insensitive(api_client, alice):
    response = api_client.post(LOGIN, {"email": "ALICE@Example.com", "password": PASSWORD})
    assert response.status_code == 200


def test_login_records_last_login(api_client, alice):
    api_client.post(LOGIN, {"email": "alice@example.com", "password": PASSWORD})
    alice.refresh_from_db()
    assert alice.last_login is not None


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("alice@example.com", "wrong-password-123"),
        ("nobody@example.com", PASSWORD),
        ("not-even-an-email", PASSWORD),
    ],
)
def test_login_answers_the_same_401_for_unknown_email_and_wrong_password(api_client, alice, email, password):
    response = api_client.post(LOGIN, {"email": email, "password": password})
    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect email or password.", "code": "invalid_credentials"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_login_of_an_inactive_account_is_the_same_401(api_client):
    UserFactory(email="gone@example.com", is_active=False)
    response = api_client.post(LOGIN, {"email": "gone@example.com", "password": PASSWORD})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({}, {"email", "password"}),
        ({"email": "alice@example.com"}, {"password"}),
        ({"password": "x"}, {"email"}),
    ],
)
def test_login_with_missing_fields_is_a_400(api_client, body, missing):
    response = api_client.post(LOGIN, body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == missing


def test_login_with_a_json_array_body_is_a_400(api_client):
    response = api_client.post(LOGIN, [1, 2], format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


# --- refresh --------------------------------------------------------------------------------


def login(client, email="alice@example.com"):
    return client.post(LOGIN, {"email": email, "password": PASSWORD}).json()


def test_refresh_rotates_and_blacklists_the_old_token(api_client, alice):
    tokens = login(api_client)
    response = api_client.post(REFRESH, {"refresh": tokens["refresh"]})
    assert response.status_code == 200
    fresh = response.json()
    assert set(fresh) == {"access", "refresh"}
    assert fresh["refresh"] != tokens["refresh"]
    again = api_client.post(REFRESH, {"refresh": fresh["refresh"]})
    assert again.status_code == 200

    reused = api_client.post(REFRESH, {"refresh": tokens["refresh"]})
    assert reused.status_code == 401
    assert reused.json()["code"] == "token_not_valid"
    # A reuse revokes the whole family (test_revocation), the latest pair included.
    assert api_client.post(REFRESH, {"refresh": again.json()["refresh"]}).status_code == 401


def test_refresh_with_an_access_token_is_a_401(api_client, alice):
    tokens = login(api_client)
    response = api_client.post(REFRESH, {"refresh": tokens["access"]})
    assert response.status_code == 401
    assert set(response.json()) == {"detail", "code"}


@pytest.mark.parametrize("garbage", ["garbage", "a.b.c", "", "   "])
def test_refresh_with_garbage_is_a_4xx_never_a_500(api_client, garbage):
    response = api_client.post(REFRESH, {"refresh": garbage})
    assert response.status_code in (400, 401)


def test_refresh_with_an_expired_token_is_a_401(api_client, alice):
    token = refresh_token_for(alice)
    token.set_exp(lifetime=-timedelta(seconds=1))
    response = api_client.post(REFRESH, {"refresh": str(token)})
    assert response.status_code == 401


def test_refresh_without_the_field_is_a_400(api_client):
    response = api_client.post(REFRESH, {}, format="json")
    assert response.status_code == 400
    assert "refresh" in response.json()


@pytest.mark.parametrize("path", [REFRESH, LOGOUT])
def test_refresh_token_of_a_deleted_account_is_a_401_not_a_500(api_client, path):
    user = UserFactory(email="deleted@example.com")
    token = str(refresh_token_for(user))
    user.delete()
    response = api_client.post(path, {"refresh": token})
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_refresh_token_of_a_deactivated_account_is_a_401(api_client):
    user = UserFactory(email="paused@example.com")
    token = str(refresh_token_for(user))
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert api_client.post(REFRESH, {"refresh": token}).status_code == 401


# --- logout ---------------------------------------------------------------------------------


def test_logout_blacklists_the_refresh_token_without_an_access_token(api_client, alice):
    tokens = login(api_client)
    response = api_client.post(LOGOUT, {"refresh": tokens["refresh"]})
    assert response.status_code == 204
    assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 401
    assert api_client.post(LOGOUT, {"refresh": tokens["refresh"]}).status_code == 401


def test_logout_with_a_bad_token_is_a_401_and_without_one_a_400(api_client):
    assert api_client.post(LOGOUT, {"refresh": "nope"}).status_code == 401
    assert api_client.post(LOGOUT, {}, format="json").status_code == 400


# --- access tokens on protected routes ------------------------------------------------------


def _forged(
    payload: dict, key: str = "a-wrong-key-that-is-long-enough-for-hs256-0123456789", algorithm: str = "HS256"
) -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


def _claims(user, **overrides) -> dict:
    now = int(time.time())
    claims = {"token_type": "access", "exp": now + 300, "iat": now, "jti": "x" * 32, "user_id": user.pk}
    return {**claims, **overrides}


@pytest.mark.parametrize(
    "make_header",
    [
        pytest.param(lambda user: None, id="missing"),
        pytest.param(lambda user: "Bearer", id="no-token"),
        pytest.param(lambda user: "Bearer a b", id="two-parts"),
        pytest.param(lambda user: "Token abc", id="wrong-scheme-ignored"),
        pytest.param(lambda user: "Bearer not.a.jwt", id="malformed"),
        pytest.param(lambda user: f"Bearer {_forged(_claims(user))}", id="tampered-signature"),
        pytest.param(
            lambda user: f"Bearer {_forged(_claims(user), key=None, algorithm='none')}", id="alg-none"
        ),
        pytest.param(
            lambda user: (
                f"Bearer {_forged(_claims(user, exp=int(time.time()) - 10), key=settings.SECRET_KEY)}"
            ),
            id="expired",
        ),
        pytest.param(lambda user: f"Bearer {refresh_token_for(user)}", id="refresh-as-access"),
        pytest.param(lambda user: "Bearer \x00\x01", id="control-chars"),
    ],
)
def test_protected_route_answers_401_with_detail_and_code(api_client, alice, make_header):
    header = make_header(alice)
    if header is not None:
        api_client.credentials(HTTP_AUTHORIZATION=header)
    response = api_client.get(ME)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"detail", "code"}
    assert body["code"] in {"not_authenticated", "token_not_valid", "bad_authorization_header"}


def test_a_deleted_accounts_access_token_stops_working_at_once(api_client, client_for):
    user = UserFactory(email="leaving@example.com")
    client = client_for(user)
    assert client.get(ME).status_code == 200
    user.delete()
    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "user_not_found"


def test_a_deactivated_accounts_access_token_is_refused(client_for):
    user = UserFactory(email="off@example.com")
    client = client_for(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert client.get(ME).status_code == 401


# --- throttling -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", [LOGIN, REGISTER])
def test_auth_endpoints_answer_429_with_retry_after_once_over_the_configured_limit(
    api_client, settings, path
):
    settings.AUTH_THROTTLE_RATE = "3/minute"
    body = {"email": "someone@example.com", "password": "wrong-password-1"}
    statuses = [api_client.post(path, body).status_code for _ in range(3)]
    assert 429 not in statuses
    response = api_client.post(path, body)
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_throttling_counts_per_client_address(api_client, settings):
    settings.AUTH_THROTTLE_RATE = "2/minute"
    for i in range(2):
        api_client.post(LOGIN, {"email": f"a{i}@example.com", "password": "x"}, REMOTE_ADDR="10.0.0.1")
    body = {"email": "someone@example.com", "password": "wrong-password-1"}
    assert api_client.post(LOGIN, body, REMOTE_ADDR="10.0.0.1").status_code == 429
    assert api_client.post(LOGIN, body, REMOTE_ADDR="10.0.0.2").status_code == 401


def test_a_forged_x_forwarded_for_does_not_dodge_the_limit(api_client, settings):
    settings.AUTH_THROTTLE_RATE = "2/minute"
    codes = [
        api_client.post(
            LOGIN, {"email": f"a{i}@example.com", "password": "x"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}"
        ).status_code
        for i in range(3)
    ]
    assert codes[-1] == 429


def test_throttling_off_lets_every_attempt_through(api_client, settings):
    settings.AUTH_THROTTLE_RATE = None
    body = {"email": "someone@example.com", "password": "wrong-password-1"}
    assert {api_client.post(LOGIN, body).status_code for _ in range(25)} == {401}


def test_the_throttle_window_resets_after_its_period(api_client, settings):
    settings.AUTH_THROTTLE_RATE = "1/second"
    body = {"email": "someone@example.com", "password": "wrong-password-1"}
    with time_machine.travel(1_000_000.0, tick=False):
        api_client.post(LOGIN, body)
        assert api_client.post(LOGIN, body).status_code == 429
    with time_machine.travel(1_000_001.5, tick=False):
        assert api_client.post(LOGIN, body).status_code == 401


# --- signed tokens with odd claims (only a holder of the key can make these) ----------------


def _signed(**claims) -> str:
    now = int(time.time())
    payload = {"token_type": "access", "exp": now + 300, "iat": now, "jti": "j" * 32, "user_id": 1, **claims}
    return jwt.encode(payload, settings.SECRET_KEY, algorithm="HS256")


@pytest.mark.parametrize(
    "claims",
    [{"user_id": "abc"}, {"user_id": [1]}, {"user_id": {}}, {"user_id": 1.5}, {"user_id": True},
     {"user_id": None}, {"exp": 1e20}],
)  # fmt: skip
def test_an_access_token_with_odd_claims_is_a_401_never_a_500_or_a_coerced_login(api_client, claims):
    UserFactory(pk=1)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {_signed(**claims)}")
    assert api_client.get(ME).status_code == 401


@pytest.mark.parametrize(
    "claims",
    [{"exp": 1e20}, {"jti": "j" * 1000}, {"user_id": "abc"}, {"user_id": 1.5}, {"jti": 5}],
)
@pytest.mark.parametrize("path", [REFRESH, LOGOUT])
def test_a_refresh_token_with_odd_claims_is_a_401_never_a_500(api_client, claims, path):
    user = UserFactory(pk=1)
    # A current token version: the odd claim is the only thing wrong with the token.
    token = _signed(token_type="refresh", tv=token_version(user), **claims)
    assert api_client.post(path, {"refresh": token}).status_code == 401


def test_a_well_formed_signed_refresh_token_is_accepted(api_client):
    """The control for the test above: the same token without the odd claim works."""
    user = UserFactory(pk=1)
    token = _signed(token_type="refresh", tv=token_version(user))
    assert api_client.post(REFRESH, {"refresh": token}).status_code == 200


def test_the_bearer_scheme_is_case_insensitive(api_client, alice):
    token = bearer(alice).split()[1]
    for scheme in ("bearer", "BEARER", "Bearer"):
        api_client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
        assert api_client.get(ME).status_code == 200


@pytest.mark.parametrize("zone", ["localtime", "posixrules", "Factory", "posix/Europe/Paris", "right/UTC"])
def test_register_refuses_zone_files_that_are_not_places(api_client, zone):
    response = register(api_client, email="tz@example.com", timezone=zone)
    assert response.status_code == 400
    assert "timezone" in response.json()


def test_a_token_verified_before_still_expires_on_time(api_client, alice, settings):
    """Verified tokens are remembered per process; their expiry is still checked every time."""
    with time_machine.travel(T0, tick=False):
        api_client.credentials(HTTP_AUTHORIZATION=bearer(alice))
        assert api_client.get(ME).status_code == 200  # verified, and remembered
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    with time_machine.travel(T0 + lifetime - timedelta(seconds=1), tick=False):
        assert api_client.get(ME).status_code == 200
    with time_machine.travel(T0 + lifetime + timedelta(seconds=1), tick=False):
        response = api_client.get(ME)
    assert (response.status_code, response.json()["code"]) == (401, "token_not_valid")
