from django.utils.timezone import now
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from focusflow.api.fields import FlatListField, TimeZoneField, instant
from focusflow.api.schema import EnumField
from focusflow.api.scopes import SCOPES
from users.emails import InvalidEmail, normalize_email
from users.models import PersonalAccessToken, User
from users.personal_tokens import DEFAULT_DAYS, MAX_DAYS

PASSWORD_MAX_LENGTH = 256


def password_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        write_only=True, trim_whitespace=False, max_length=PASSWORD_MAX_LENGTH, **kwargs
    )


class _NormalisedEmail:
    """The address as it is stored (users.emails), before the length and syntax checks run on
    it; invisible characters and a bad domain are a 400 on the field."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return normalize_email(value)
        except InvalidEmail as exc:
            raise serializers.ValidationError(exc.messages) from None


class EmailAddressField(_NormalisedEmail, serializers.EmailField):
    """A new address: normalised, then validated."""


class LoginEmailField(_NormalisedEmail, serializers.CharField):
    """An address to look up: normalised only (anything else simply matches no account)."""


class UserSerializer(serializers.ModelSerializer):
    """The user object. PATCH changes `display_name`, `timezone` and `daily_goal_minutes`. The
    representation is written out by hand for speed; tests pin it equal to DRF's own."""

    timezone = TimeZoneField(required=False, help_text="IANA time zone name, e.g. Europe/Paris.")
    email_verified = serializers.BooleanField(
        read_only=True,
        help_text="Whether the account's owner proved to read `email` (a link or code mailed to it).",
    )
    pending_email = serializers.SerializerMethodField(
        help_text="The address an email change waits to confirm, or null."
    )

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "email_verified",
            "pending_email",
            "display_name",
            "timezone",
            "daily_goal_minutes",
            "date_joined",
        ]
        read_only_fields = ["id", "email", "date_joined"]

    @extend_schema_field(serializers.EmailField(allow_null=True))
    def get_pending_email(self, user: User) -> str | None:
        return user.pending_email_at(now())

    def to_representation(self, user: User) -> dict:
        return {
            "id": user.pk,
            "email": user.email,
            "email_verified": user.email_verified,
            "pending_email": self.get_pending_email(user),
            "display_name": user.display_name,
            "timezone": user.timezone,
            "daily_goal_minutes": user.daily_goal_minutes,
            "date_joined": instant(user.date_joined),
        }


class RegisterSerializer(serializers.Serializer):
    email = EmailAddressField(max_length=254)
    password = password_field(help_text="At least 8 characters, not too common or guessable.")
    display_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    timezone = TimeZoneField(required=False, default="UTC")


class LoginSerializer(serializers.Serializer):
    email = LoginEmailField(max_length=254)
    password = password_field()


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(trim_whitespace=True)


class PasswordChangeSerializer(serializers.Serializer):
    current_password = password_field()
    new_password = password_field()


class AccountDeleteSerializer(serializers.Serializer):
    password = password_field()


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What happens next, in a sentence for the person.")


def _link_token(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        required=False, max_length=200, help_text="The `token` of the emailed link.", **kwargs
    )


def _link_code(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        required=False,
        max_length=20,
        help_text="The emailed code, `XXXX-XXXX`; case, spaces and hyphens do not matter.",
        **kwargs,
    )


class _TokenOrCode(serializers.Serializer):
    """Exactly one of `token` and `code`."""

    token = _link_token()
    code = _link_code()

    def validate(self, data):
        if ("token" in data) == ("code" in data):
            raise serializers.ValidationError("Send either the token of the link or the code, not both.")
        return data


class PasswordResetSerializer(serializers.Serializer):
    email = EmailAddressField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    token = _link_token()
    email = LoginEmailField(max_length=254, required=False, help_text="With `code`: the account's email.")
    code = _link_code()
    new_password = password_field(help_text="At least 8 characters, not too common or guessable.")

    def validate(self, data):
        by_token = "token" in data
        by_code = "email" in data and "code" in data
        if by_token == by_code or (by_token and ("email" in data or "code" in data)):
            raise serializers.ValidationError("Send either the token of the link, or the email and the code.")
        return data


class EmailVerifySerializer(_TokenOrCode):
    pass


class EmailChangeSerializer(serializers.Serializer):
    new_email = EmailAddressField(max_length=254)
    password = password_field()


class EmailChangeConfirmSerializer(_TokenOrCode):
    pass


# --- Personal access tokens ------------------------------------------------------------------

_SCOPES_HELP = (
    "What the token may do: `sessions:read` (sessions, history, stats, tags, goals), "
    "`sessions:write` (their writes; implies `sessions:read`), `journals:read`, `journals:write` "
    "(implies `journals:read`), `webhooks:manage`. Any token may read the profile, the quote, "
    "`sync/` and `events/` (of the kinds it may read); none may manage the account or tokens."
)


class PersonalTokenSerializer(serializers.ModelSerializer):
    """A personal access token as its list shows it: never its value."""

    scopes = serializers.ListField(child=EnumField(values=SCOPES), help_text=_SCOPES_HELP)

    class Meta:
        model = PersonalAccessToken
        fields = ["id", "name", "prefix", "scopes", "created_at", "expires_at", "last_used_at"]
        read_only_fields = fields


class PersonalTokenCreatedSerializer(PersonalTokenSerializer):
    token = serializers.CharField(
        help_text="The token (`ffp_...`): shown this once. Send it as `Authorization: Bearer <token>`."
    )

    class Meta(PersonalTokenSerializer.Meta):
        fields = ["id", "name", "token", "prefix", "scopes", "created_at", "expires_at", "last_used_at"]
        read_only_fields = fields


class PersonalTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=100, help_text="What you call it: 1-100 characters after trimming."
    )
    scopes = FlatListField(
        child=serializers.ChoiceField(choices=SCOPES),
        max_length=20,
        help_text=_SCOPES_HELP + " Duplicates count once.",
    )
    expires_in_days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_DAYS,
        help_text=f"It stops working after this many days: 1-{MAX_DAYS}, default {DEFAULT_DAYS}.",
    )

    def validate_name(self, value: str) -> str:
        if not value.isprintable():
            raise serializers.ValidationError("Use printable characters only.")
        return value
