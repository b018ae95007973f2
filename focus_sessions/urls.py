app_name = "focus_sessions"

urlpatterns: list = []
