"""URLs of the crisis board (mounted at /board/ by crisis.urls, without a namespace so the
page keeps its name "board", which role homes and links use)."""

from django.urls import path

from crisis.board import views_board

urlpatterns = [
    path("", views_board.board, name="board"),
    path("wall/", views_board.wall, name="board_wall"),
    path("topics/", views_board.topics, name="board_topics"),
    path("fragments/<slug:name>/", views_board.fragment, name="board_fragment"),
]
