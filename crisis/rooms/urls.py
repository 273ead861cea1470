"""URLs of crisis rooms, one module per slice: crises and cabinet, action plan and timeline,
statement, post-mortem."""

from crisis.rooms import urls_crises, urls_plan, urls_postmortem, urls_statement

app_name = "rooms"

urlpatterns = [
    *urls_crises.urlpatterns,
    *urls_plan.urlpatterns,
    *urls_statement.urlpatterns,
    *urls_postmortem.urlpatterns,
]
