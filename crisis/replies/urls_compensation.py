"""URLs of the compensation slice of replies (joined in crisis/replies/urls.py)."""

from django.urls import path

from crisis.replies.views import compensation

urlpatterns = [
    path("incidents/<int:pk>/compensations/", compensation.offer, name="offer_compensation"),
    path("compensations/<int:pk>/grant/", compensation.grant, name="grant_compensation"),
    path("compensations/<int:pk>/approve/", compensation.approve, name="approve_compensation"),
    path("compensations/<int:pk>/decline/", compensation.decline, name="decline_compensation"),
    path("compensations/<int:pk>/withdraw/", compensation.withdraw, name="withdraw_compensation"),
    path("budgets/", compensation.budgets, name="budgets"),
    path("budgets/<int:pk>/", compensation.budget_detail, name="budget_detail"),
]
