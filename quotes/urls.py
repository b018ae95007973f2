from django.urls import path

from quotes import views

app_name = "quotes"

urlpatterns = [
    path("today/", views.TodayQuoteView.as_view(), name="today"),
]
