from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils.timezone import now

from focusflow.core.timezones import validate_time_zone
from users.emails import InvalidEmail, normalize_email

# The daily goal, in minutes: at least one, at most a whole day.
DAILY_GOAL_MIN_MINUTES, DAILY_GOAL_MAX_MINUTES = 1, 24 * 60


SYNC_COUNTERS = frozenset({"sync_seq", "profile_seq", "sync_purged_seq"})


class UserManager(BaseUserManager):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        return normalize_email(email or "")

    def filter_by_email(self, email: str) -> models.QuerySet:
        """Addresses are stored normalised, so an exact, indexed match; an address that cannot
        be normalised matches no account."""
        try:
            return self.filter(email=normalize_email(email))
        except InvalidEmail:
            return self.none()

    def get_by_natural_key(self, email: str):
        return self.filter_by_email(email).get()

    def create_user(self, email: str, password: str | None = None, **fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        if not (fields["is_staff"] and fields["is_superuser"]):
            raise ValueError("A superuser needs is_staff and is_superuser.")
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """An account. The email is the login; there is no username."""

    # Stored normalised (users.emails; see clean() and save()); the functional constraint below
    # also holds it case-insensitively for rows written any other way.
    email = models.EmailField("email address", max_length=254, unique=True)
    display_name = models.CharField(max_length=100, blank=True, default="")
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="IANA time zone; stats and date filters use it.",
    )
    daily_goal_minutes = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(DAILY_GOAL_MIN_MINUTES), MaxValueValidator(DAILY_GOAL_MAX_MINUTES)],
    )
    is_active = models.BooleanField(default=True)
    # Whether the owner of `email` proved they read it (a link or code mailed to it: users.recovery).
    email_verified = models.BooleanField(default=False)
    # The address an email change waits to confirm (a link mailed to it), until
    # `pending_email_until`; empty when none does.
    pending_email = models.EmailField(max_length=254, blank=True, default="", editable=False)
    pending_email_until = models.DateTimeField(null=True, blank=True, editable=False)
    # When a password change or reset, or an email-change confirmation, last voided the
    # account's links: a reset asked for before it, still in the queue, is not sent.
    links_voided_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=now)
    # The account's change counter (`focusflow.sync.feed`): every change to its sessions, journals
    # and profile takes the next number, under this row's lock. `profile_seq` is the number of
    # the latest profile change (0: never changed, so every first sync includes it).
    sync_seq = models.BigIntegerField(default=0, editable=False)
    profile_seq = models.BigIntegerField(default=0, editable=False)
    # Tombstones up to this number have been purged: older sync cursors are refused (410).
    sync_purged_seq = models.BigIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
            models.CheckConstraint(
                condition=models.Q(daily_goal_minutes__isnull=True)
                | models.Q(
                    daily_goal_minutes__gte=DAILY_GOAL_MIN_MINUTES,
                    daily_goal_minutes__lte=DAILY_GOAL_MAX_MINUTES,
                ),
                name="user_daily_goal_1_to_1440",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def pending_email_at(self, at) -> str | None:
        """The address an email change waits to confirm at `at`; None once its link expired."""
        if self.pending_email and self.pending_email_until and self.pending_email_until > at:
            return self.pending_email
        return None

    def clean(self) -> None:
        # Instead of AbstractBaseUser's NFKC of the username: the whole normalisation, with its
        # error on the email field of the admin's forms.
        try:
            self.email = normalize_email(self.email)
        except InvalidEmail as exc:
            raise InvalidEmail({"email": exc.error_list}) from None

    def set_password(self, raw_password) -> None:
        super().set_password(raw_password)
        self._password_changed = not getattr(self, "_rehashing", False)

    def set_unusable_password(self) -> None:
        # The admin's "password-based authentication: disabled" is a new password too.
        super().set_unusable_password()
        self._password_changed = True

    def check_password(self, raw_password) -> bool:
        # A hash upgraded as the password is checked (a login) is the same password: it voids
        # nothing. (It is a new hash, so it still ends the account's tokens: users.tokens.)
        self._rehashing = True
        try:
            return super().check_password(raw_password)
        finally:
            self._rehashing = False

    def links_void(self) -> None:
        """Void the account's outstanding reset, verification and change links and codes, those
        of reset requests still in the queue included (`links_voided_at`; users.mail); undo links
        stay, so the owner of an old address can still undo a change somebody else made. The
        caller holds the account's row lock, and has numbered the profile change if
        `pending_email` goes."""
        AccountLink.objects.filter(user=self).exclude(purpose=AccountLink.Purpose.UNDO).delete()
        self.pending_email, self.pending_email_until, self.links_voided_at = "", None, now()
        self.save(update_fields=["pending_email", "pending_email_until", "links_voided_at"])

    def save(self, *args, **kwargs):
        """A new password, set anywhere (the API, a reset, the admin, `changepassword`), voids
        the account's links (`links_void`) and ends its personal access tokens, in the same
        transaction."""
        password_changed = getattr(self, "_password_changed", False) and not self._state.adding
        self._password_changed = False
        if not password_changed:
            self._save(*args, **kwargs)
            return
        with transaction.atomic():
            self._save(*args, **kwargs)
            self.links_void()
            PersonalAccessToken.objects.filter(user=self).delete()

    def _save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        if not self._state.adding and kwargs.get("update_fields") is None:
            # The sync counters move only by their own statements (`focusflow.sync.feed`), under the
            # row's lock: a full save from an instance read earlier (the admin's form,
            # `changepassword`) must not write an older number back over a newer one.
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in SYNC_COUNTERS
            ]
        super().save(*args, **kwargs)


class RevokedTokenFamily(models.Model):
    """Every token of one login (a family: the refresh token issued at login, every one
    rotated from it and every access token they issued), revoked at once by logout or by the
    reuse of an already rotated refresh token (users.tokens). Authentication asks whether the
    presented token's family is here in the same query that reads the account."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    family = models.CharField(max_length=255, help_text="The jti of the login's first refresh token.")
    revoked_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField(
        db_index=True, help_text="No token of the family is valid after it; then the row can go."
    )

    class Meta:
        constraints = [
            # Also the index the per-request lookup (user, family) uses.
            models.UniqueConstraint(fields=["user", "family"], name="revoked_token_family_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.family} (user {self.user_id})"


class AccountLink(models.Model):
    """A link and a code mailed to an address, to prove that whoever uses them reads it: a
    password reset, an email verification, an email change (to the new address) or its undo
    (to the old one). Single-use: using one deletes its row, and so does voiding it.

    Neither the token nor the code is stored, only their keyed hashes, written by the worker
    when it mints them for the email (empty until then); requests that bring them back are
    looked up and compared by them (users.recovery)."""

    class Purpose(models.TextChoices):
        RESET = "reset", "password reset"
        VERIFY = "verify", "email verification"
        CHANGE = "change", "email change"
        UNDO = "undo", "email change undo"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=8, choices=Purpose.choices)
    email = models.EmailField(max_length=254, help_text="The address the link is mailed to.")
    token_hash = models.CharField(
        max_length=64, blank=True, editable=False, help_text="Empty: not mailed yet."
    )
    code_hash = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="Empty: not mailed yet, no code (undo links), or too many wrong tries.",
    )
    code_tries = models.PositiveSmallIntegerField(default=0)
    requested_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "purpose"], name="account_link_user_purpose"),
            models.Index(fields=["email", "purpose"], name="account_link_email_purpose"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["token_hash"],
                condition=~models.Q(token_hash=""),
                name="account_link_token_hash_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("requested_at")),
                name="account_link_expires_after_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} for {self.email}"


class PasswordResetRequest(models.Model):
    """When a password reset was last asked for an address, whether or not an account has it:
    a reset link issued for an earlier request no longer works. Every reset request writes
    this one row (an upsert), the same statement for any address, so the request does the same
    work with or without an account. The address is kept only as a keyed hash."""

    address = models.CharField(max_length=64, primary_key=True, help_text="HMAC of the normalised email.")
    requested_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"reset asked at {self.requested_at:%Y-%m-%d %H:%M:%S}"


class PersonalAccessToken(models.Model):
    """A token a script or an integration authenticates with instead of a login
    (`Authorization: Bearer ffp_...`), limited to its scopes (focusflow.api.scopes). Only a
    keyed hash of it is stored; the token itself is shown once, when it is made
    (users.personal_tokens). It ends when it expires, is deleted, with any new password, and
    with its account."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100, help_text="What its owner calls it (the script that holds it).")
    digest = models.CharField(
        max_length=64, unique=True, editable=False, help_text="HMAC-SHA256 of the token, hex."
    )
    prefix = models.CharField(
        max_length=8, editable=False, help_text="The first 8 characters after `ffp_`, to recognise it by."
    )
    scopes = ArrayField(models.CharField(max_length=32), blank=True, default=list)
    created_at = models.DateTimeField(default=now, editable=False)
    expires_at = models.DateTimeField(db_index=True)
    last_used_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="To the minute; null: never used."
    )

    class Meta:
        verbose_name = "personal access token"
        indexes = [models.Index(fields=["user", "-created_at"], name="personal_token_user_created")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="personal_token_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (ffp_{self.prefix}...)"
