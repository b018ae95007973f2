from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group
from django.db.models import Q
from django.templatetags.static import static
from django.utils.html import format_html
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from focusflow.admin.lists import ReadOnlyAdmin, UserEmailFilter, YesNoFilter, email_cell
from focusflow.core.display import excerpt
from users import services
from users.emails import normalize_email
from users.models import PersonalAccessToken, User
from users.personal_tokens import personal_token_delete
from users.services import PROFILE_FIELDS

# Admins are superusers; nothing grants rights through groups, so they are not offered.
admin.site.unregister(Group)


class EmailAddressFormField(forms.EmailField):
    """Normalised (users.emails) before it is validated and checked for uniqueness, so a
    look-alike of an existing address is "already exists", not a second account."""

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_email(value) if value else value


class EmailUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email",)
        field_classes = {"email": EmailAddressFormField}


class EmailUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes = {"email": EmailAddressFormField}


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Email-based: there is no username. No groups or per-user permissions either: nothing in
    FocusFlow grants rights through them (staff who administer are superusers)."""

    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    ordering = ("-date_joined",)
    list_display = ("account", "last_login", "date_joined", "is_active")
    list_editable = ("is_active",)
    list_filter = ("is_active", "email_verified", "is_staff", "is_superuser", "date_joined")
    search_fields = ("email", "display_name")
    readonly_fields = ("date_joined", "last_login", "email_verified", "pending_email")
    fieldsets = (
        (None, {"fields": ("email", "email_verified", "pending_email", "password")}),
        ("Profile", {"fields": ("display_name", "timezone", "daily_goal_minutes")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ()
    actions = ["send_password_reset", "deactivate"]

    @admin.display(description="email address", ordering="email")
    def account(self, user: User) -> str:
        """The address, and whether its owner proved to read it (the admin's yes/no icon, which
        says so on hover): in the address's own column, as the list has no room for another."""
        verified = ("yes", "verified") if user.email_verified else ("no", "not verified")
        return format_html(
            '{} <img src="{}" alt="{}" title="email {}">',
            email_cell(user.email),
            static(f"admin/img/icon-{verified[0]}.svg"),
            verified[1],
            verified[1],
        )

    def save_model(self, request, obj, form, change) -> None:
        """A profile change goes through `users.services.user_update`, as one made through the
        API does (the sync numbering, the stats recount on a time-zone change), inside the
        change view's transaction; the other fields are saved as Django's admin saves them."""
        profile = {name: getattr(obj, name) for name in PROFILE_FIELDS if name in form.changed_data}
        if change and profile:
            services.user_update(user=User.objects.get(pk=obj.pk), **profile)
        email_changed = change and "email" in form.changed_data
        if email_changed:
            obj.email_verified = False  # nobody has proved to read the new address yet
        super().save_model(request, obj, form, change)
        if email_changed:
            services.user_email_changed_by_admin(user=obj)
        if change and "is_active" in form.changed_data and not obj.is_active:
            services.user_deactivate(user=obj)  # unticking "active" is a deactivation too

    @admin.action(description="Send a password reset email to the selected accounts", permissions=["change"])
    def send_password_reset(self, request, queryset) -> None:
        """The same reset as the API's: a link and code to the account's address, by the worker."""
        emails = list(queryset.filter(is_active=True).values_list("email", flat=True))
        for email in emails:
            services.password_reset_request(email=email)
        self.message_user(
            request,
            f"A password reset email is on its way to {len(emails)} account(s); inactive accounts get none.",
            messages.SUCCESS,
        )

    @admin.action(description="Deactivate selected accounts", permissions=["change"])
    def deactivate(self, request, queryset) -> None:
        count = 0
        for user in queryset.filter(is_active=True):
            if user.pk == request.user.pk:
                self.message_user(request, "Your own account stays active.", messages.WARNING)
                continue
            services.user_deactivate(user=user)
            count += 1
        self.message_user(
            request,
            f"Deactivated {count} account(s): they can no longer log in, and their tokens are refused.",
            messages.SUCCESS,
        )


# SimpleJWT's token blacklist: a record the token code writes (`users.tokens`), for reading
# only. Its own admin lets staff add, edit and delete rows; these replace it.
admin.site.unregister(OutstandingToken)
admin.site.unregister(BlacklistedToken)


class BlacklistedFilter(YesNoFilter):
    title = "blacklisted"
    parameter_name = "blacklisted"
    yes = Q(blacklistedtoken__isnull=False)


@admin.register(OutstandingToken)
class OutstandingTokenAdmin(ReadOnlyAdmin):
    """Every refresh token issued. The token itself stays out of sight: until it expires or
    is blacklisted it is a working credential."""

    list_display = ("created_at", "account", "expires_at", "blacklisted")
    list_select_related = ("user", "blacklistedtoken")
    list_filter = (BlacklistedFilter, UserEmailFilter)
    search_fields = ("=jti",)
    ordering = ("-created_at",)
    fields = ("jti", "user", "created_at", "expires_at")

    @admin.display(description="user", ordering="user__email")
    def account(self, token: OutstandingToken) -> str:
        return email_cell(token.user.email if token.user else None)

    @admin.display(boolean=True, description="blacklisted")
    def blacklisted(self, token: OutstandingToken) -> bool:
        return hasattr(token, "blacklistedtoken")


class BlacklistedTokenUserFilter(UserEmailFilter):
    user_field = "token__user"


@admin.register(BlacklistedToken)
class BlacklistedTokenAdmin(ReadOnlyAdmin):
    """Refresh tokens spent by a refresh or a logout, which can never be used again."""

    list_display = ("blacklisted_at", "account", "expires_at")
    list_select_related = ("token__user",)
    list_filter = (BlacklistedTokenUserFilter,)
    search_fields = ("=token__jti",)
    ordering = ("-blacklisted_at",)
    fields = ("token", "blacklisted_at")

    @admin.display(description="user", ordering="token__user__email")
    def account(self, blacklisted: BlacklistedToken) -> str:
        user = blacklisted.token.user
        return email_cell(user.email if user else None)

    @admin.display(description="expires at", ordering="token__expires_at")
    def expires_at(self, blacklisted: BlacklistedToken):
        return blacklisted.token.expires_at


@admin.register(PersonalAccessToken)
class PersonalAccessTokenAdmin(ReadOnlyAdmin):
    """Personal access tokens (only their prefix: the token itself is never stored). An admin
    may delete one, which revokes it at once, as its owner's DELETE does."""

    list_display = ("name_excerpt", "prefix", "account", "last_used_at")
    list_select_related = ("user",)
    list_filter = (UserEmailFilter,)
    search_fields = ("=prefix", "name")
    ordering = ("-created_at",)
    fields = ("name", "prefix", "user", "scopes", "created_at", "expires_at", "last_used_at")

    def has_delete_permission(self, request, obj=None) -> bool:
        return True

    @admin.display(description="user", ordering="user__email")
    def account(self, token: PersonalAccessToken) -> str:
        return email_cell(token.user.email)

    @admin.display(description="name", ordering="name")
    def name_excerpt(self, token: PersonalAccessToken) -> str:
        return excerpt(token.name, 30)

    def delete_model(self, request, obj: PersonalAccessToken) -> None:
        personal_token_delete(user=obj.user, token_id=obj.pk)

    def delete_queryset(self, request, queryset) -> None:
        for token in queryset.select_related("user"):
            personal_token_delete(user=token.user, token_id=token.pk)
