"""URLs of the private slice of replies (joined in crisis/replies/urls.py)."""

urlpatterns: list = []
