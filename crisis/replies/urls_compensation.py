"""URLs of the compensation slice of replies (joined in crisis/replies/urls.py)."""

urlpatterns: list = []
