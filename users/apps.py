from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from focusflow.sync.feed import SyncKind, register_sync_kind
        from focusflow.webhooks.serializers import WebhookSerializer
        from focusflow.webhooks.services import webhooks_export_rows
        from users.auth_state import family_revoked, user_saved_or_deleted
        from users.export_sections import register_export_section
        from users.models import RevokedTokenFamily, User
        from users.personal_tokens import personal_tokens_export_rows
        from users.serializers import PersonalTokenSerializer, UserSerializer

        # A cached authentication state stops counting when what it was read from changes.
        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(user_saved_or_deleted, sender=User, dispatch_uid=f"auth-state-user-{name}")
            signal.connect(
                family_revoked, sender=RevokedTokenFamily, dispatch_uid=f"auth-state-family-{name}"
            )

        # The profile is the user's own row, numbered by `profile_seq`.
        register_sync_kind(
            SyncKind(
                name="profile",
                model=User,
                serializer=UserSerializer,
                owner_field="pk",
                seq_field="profile_seq",
            )
        )
        # The account's integrations as their lists show them: never a token's value or a
        # webhook's secret. (Webhooks sit below users, so their section is registered here.)
        register_export_section(
            "personal_tokens", rows=personal_tokens_export_rows, serializer=PersonalTokenSerializer
        )
        register_export_section("webhooks", rows=webhooks_export_rows, serializer=WebhookSerializer)
