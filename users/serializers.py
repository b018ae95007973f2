from rest_framework import serializers

from focusflow.api.fields import TimeZoneField, instant
from users.emails import InvalidEmail, normalize_email
from users.models import User

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

    class Meta:
        model = User
        fields = ["id", "email", "display_name", "timezone", "daily_goal_minutes", "date_joined"]
        read_only_fields = ["id", "email", "date_joined"]

    def to_representation(self, user: User) -> dict:
        return {
            "id": user.pk,
            "email": user.email,
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
