from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from focusflow.sync.feed import SyncKind, register_sync_kind
        from users.auth_state import family_revoked, user_saved_or_deleted
        from users.models import RevokedTokenFamily, User
        from users.serializers import UserSerializer

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
