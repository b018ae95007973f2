from rest_framework import serializers

from focusflow.fields import TimeZoneField
from users.models import User

PASSWORD_MAX_LENGTH = 256


def password_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        write_only=True, trim_whitespace=False, max_length=PASSWORD_MAX_LENGTH, **kwargs
    )


class UserSerializer(serializers.ModelSerializer):
    """The user object. PATCH changes `display_name`, `timezone` and `daily_goal_minutes`."""

    timezone = TimeZoneField(required=False, help_text="IANA time zone name, e.g. Europe/Paris.")
    daily_goal_minutes = serializers.IntegerField(
        min_value=1, max_value=1440, allow_null=True, required=False
    )

    class Meta:
        model = User
        fields = ["id", "email", "display_name", "timezone", "daily_goal_minutes", "date_joined"]
        read_only_fields = ["id", "email", "date_joined"]


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = password_field(help_text="At least 8 characters, not too common or guessable.")
    display_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    timezone = TimeZoneField(required=False, default="UTC")


class LoginSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
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


class ExportSerializer(serializers.Serializer):
    exported_at = serializers.DateTimeField()
    user = UserSerializer()
    focus_sessions = serializers.ListField(child=serializers.DictField(), required=False)
    journals = serializers.ListField(child=serializers.DictField(), required=False)
