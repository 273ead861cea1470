"""URLs of the sending slice of replies (joined in crisis/replies/urls.py)."""

urlpatterns: list = []
