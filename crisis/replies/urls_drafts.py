"""URLs of the drafts slice of replies (joined in crisis/replies/urls.py)."""

urlpatterns: list = []
