"""The admin site: Django's, with its two password checks (login, and an admin changing their
own password) limited like every other one (focusflow.throttling.limits.password_check_wait).

A refused login shows the form again with a clear message, answered 429 with Retry-After, and
the password is not checked at all (so even the right one is refused until the wait is over).
"""

import functools
import math

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm, AdminPasswordChangeForm
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import ValidationError
from django.urls import reverse, reverse_lazy

from focusflow.throttling.limits import account_of_email, password_check_wait

TOO_MANY_ATTEMPTS = (
    "Too many password attempts from this address or for this account. Try again in %(seconds)d seconds."
)


def _refuse_when_over_the_limit(form, request, *, account: str | None) -> None:
    wait = password_check_wait(request, account=account)
    if wait is not None:
        form.throttle_wait = math.ceil(wait)
        raise ValidationError(TOO_MANY_ATTEMPTS, code="throttled", params={"seconds": form.throttle_wait})


class AdminLoginForm(AdminAuthenticationForm):
    throttle_wait: int | None = None

    def clean(self):
        if self.cleaned_data.get("username") is not None and self.cleaned_data.get("password"):
            account = account_of_email(self.cleaned_data["username"])
            _refuse_when_over_the_limit(self, self.request, account=account)
        return super().clean()


class AdminOwnPasswordChangeForm(AdminPasswordChangeForm):
    """/admin/password_change/: checks the old password first."""

    throttle_wait: int | None = None

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_old_password(self):
        _refuse_when_over_the_limit(self, self.request, account=self.user.email)
        return super().clean_old_password()


def _as_too_many_requests(response):
    form = (getattr(response, "context_data", None) or {}).get("form")
    wait = getattr(form, "throttle_wait", None)
    if wait is not None:
        response.status_code = 429
        response["Retry-After"] = str(wait)
    return response


class AdminSite(admin.AdminSite):
    site_header = site_title = "FocusFlow administration"
    # There is no public web site here: the API docs are what the backend shows the world.
    site_url = reverse_lazy("docs")
    login_form = AdminLoginForm

    def login(self, request, extra_context=None):
        return _as_too_many_requests(super().login(request, extra_context))

    def password_change(self, request, extra_context=None):
        # Django's, with the request handed to the form (it needs the client's address).
        request.current_app = self.name
        view = PasswordChangeView.as_view(
            form_class=functools.partial(AdminOwnPasswordChangeForm, request=request),
            success_url=reverse("admin:password_change_done", current_app=self.name),
            extra_context={**self.each_context(request), **(extra_context or {})},
            template_name=self.password_change_template or "registration/password_change_form.html",
        )
        return _as_too_many_requests(view(request))
