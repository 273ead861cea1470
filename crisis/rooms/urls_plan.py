"""URLs of the plan slice of crisis rooms (joined in crisis/rooms/urls.py)."""

urlpatterns: list = []
