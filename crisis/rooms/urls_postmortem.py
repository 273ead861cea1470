"""URLs of the postmortem slice of crisis rooms (joined in crisis/rooms/urls.py)."""

urlpatterns: list = []
