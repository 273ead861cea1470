"""URLs of the statement slice of crisis rooms (joined in crisis/rooms/urls.py)."""

urlpatterns: list = []
