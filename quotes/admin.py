from django.contrib import admin, messages
from django.db.models import QuerySet

from focusflow.admin.lists import ReadOnlyAdmin
from quotes.calendar import quote_day
from quotes.models import DailyQuote, Quote
from quotes.selectors import daily_quote_forget


def _excerpt(text: str, length: int = 80) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    """Quotes are retired, not deleted: a served quote is protected by the day-by-day record,
    and a retired one is simply never picked for a new day."""

    list_display = ("excerpt", "author", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("text", "author")
    ordering = ("-created_at", "-id")
    readonly_fields = ("created_at",)
    fields = ("text", "author", "is_active", "created_at")
    actions = ("retire", "restore")
    list_per_page = 50

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change:
            # A wording fix of today's quote shows at once instead of at midnight.
            daily_quote_forget(day=quote_day())

    @admin.display(description="text", ordering="text")
    def excerpt(self, quote: Quote) -> str:
        return _excerpt(quote.text)

    @admin.action(description="Retire the selected quotes (never picked for a new day)")
    def retire(self, request, queryset: QuerySet[Quote]) -> None:
        count = queryset.filter(is_active=True).update(is_active=False)
        self.message_user(request, f"Retired {count} quote(s).", messages.SUCCESS)

    @admin.action(description="Restore the selected quotes")
    def restore(self, request, queryset: QuerySet[Quote]) -> None:
        count = queryset.filter(is_active=False).update(is_active=True)
        self.message_user(request, f"Restored {count} quote(s).", messages.SUCCESS)


@admin.register(DailyQuote)
class DailyQuoteAdmin(ReadOnlyAdmin):
    """The day-by-day record, read-only: it is written by the first request of each day and a
    served day must never change."""

    list_display = ("date", "quote_text", "quote_author", "cycle", "created_at")
    list_select_related = ("quote",)
    date_hierarchy = "date"
    search_fields = ("quote__text", "quote__author")
    ordering = ("-date",)

    @admin.display(description="quote", ordering="quote__text")
    def quote_text(self, day: DailyQuote) -> str:
        return _excerpt(day.quote.text)

    @admin.display(description="author", ordering="quote__author")
    def quote_author(self, day: DailyQuote) -> str | None:
        return day.quote.author
