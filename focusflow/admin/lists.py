"""The pieces every app's admin shares: list filters and list cells.

Times in the admin are in TIME_ZONE (UTC) with the zone written out (formats in
`focusflow/formats/`); where a user's own clock matters, a column says so and shows their zone.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.html import format_html

from focusflow.core.display import excerpt

# Addresses have no spaces, so a long one cannot wrap and would widen its column alone.
EMAIL_CELL_LENGTH = 32


def email_cell(email: str | None) -> str:
    """An email address for a list column: cut to a fixed width, whole on hover."""
    if email is None:
        return "—"
    return format_html('<span title="{}">{}</span>', email, excerpt(email, EMAIL_CELL_LENGTH))


class YesNoFilter(admin.SimpleListFilter):
    """A question a row answers yes or no ("paused?"); a subclass gives `title`,
    `parameter_name` and `yes`, the condition of a yes."""

    yes: Q

    def lookups(self, request, model_admin):
        return (("yes", "Yes"), ("no", "No"))

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(self.yes)
        if self.value() == "no":
            return queryset.exclude(self.yes)
        return queryset


class UserEmailFilter(admin.SimpleListFilter):
    """Rows of one account, by its email address: a text box, since a list of every account
    (there may be 100,000) would not do. `user_field` is the path to the account."""

    title = "user (email)"
    parameter_name = "user_email"
    template = "focusflow/admin/email_filter.html"
    user_field = "user"

    def lookups(self, request, model_admin):
        return ()

    def has_output(self) -> bool:
        return True  # the box shows even before anything is typed

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if not self.value():
            return queryset
        return queryset.filter(
            **{f"{self.user_field}__in": get_user_model().objects.filter_by_email(self.value())}
        )

    def choices(self, changelist):
        # The template's one "choice": the typed address, the link that drops it, and the
        # other filters, search and ordering, which the box's form must send on.
        others = QueryDict(changelist.get_query_string(remove=[self.parameter_name])[1:])
        yield {
            "parameter_name": self.parameter_name,
            "value": self.value() or "",
            "keep": [(name, value) for name, values in others.lists() for value in values],
            "clear": changelist.get_query_string(remove=[self.parameter_name]),
        }


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record kept by the code, shown to admins but never written by them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
