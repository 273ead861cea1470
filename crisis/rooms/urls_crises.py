"""URLs of the crises slice of crisis rooms (joined in crisis/rooms/urls.py): the list, the
room and its live parts, declaring, the cabinet, status, incidents and departments."""

from django.urls import path

from crisis.rooms.views import crises

urlpatterns = [
    path("", crises.crisis_list, name="list"),
    path("declare/", crises.declare, name="declare"),
    path(
        "suggestions/<int:suggestion_pk>/accept/",
        crises.accept_suggestion,
        name="accept_suggestion",
    ),
    path("departments/", crises.departments, name="departments"),
    path("departments/<int:department_pk>/", crises.department_edit, name="department_edit"),
    path("incidents/<int:incident_pk>/link/", crises.link_incident, name="link_incident"),
    path("<int:pk>/", crises.room, name="room"),
    path("<int:pk>/header/", crises.room_header, name="room_header"),
    path("<int:pk>/cabinet/", crises.room_cabinet, name="room_cabinet"),
    path("<int:pk>/incidents/", crises.room_incidents, name="room_incidents"),
    path(
        "<int:pk>/incidents/<int:incident_pk>/unlink/",
        crises.unlink_incident,
        name="unlink_incident",
    ),
    path("<int:pk>/contain/", crises.contain, name="contain"),
    path("<int:pk>/reactivate/", crises.reactivate, name="reactivate"),
    path("<int:pk>/cabinet/add/", crises.add_member, name="add_member"),
    path(
        "<int:pk>/cabinet/<int:member_pk>/role/",
        crises.change_member_role,
        name="change_member_role",
    ),
    path("<int:pk>/cabinet/<int:member_pk>/remove/", crises.remove_member, name="remove_member"),
    path("<int:pk>/command/", crises.hand_over, name="hand_over"),
]
