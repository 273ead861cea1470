"""URLs of the moderation slice of replies (joined in crisis/replies/urls.py)."""

urlpatterns: list = []
