"""URLs of the crises slice of crisis rooms (joined in crisis/rooms/urls.py)."""

urlpatterns: list = []
