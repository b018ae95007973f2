from django.urls import path

from focus_sessions import views

app_name = "focus_sessions"

urlpatterns = [
    path("start/", views.StartView.as_view(), name="start"),
    path("stop/", views.StopView.as_view(), name="stop"),
    path("pause/", views.PauseView.as_view(), name="pause"),
    path("resume/", views.ResumeView.as_view(), name="resume"),
    path("active/", views.ActiveView.as_view(), name="active"),
    path("history/", views.HistoryView.as_view(), name="history"),
    path("stats/", views.StatsView.as_view(), name="stats"),
]
