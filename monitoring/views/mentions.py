"""The mentions explorer: every stored mention, newest first, searchable and filterable."""

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from crisis.roles import Perm
from crisis.views.rendering import render_page_or_partial
from monitoring.forms import MentionFilterForm
from monitoring.selectors import mentions_for_explorer

PAGE_SIZE = 50


@permission_required(Perm.VIEW_MENTIONS, raise_exception=True)
def mention_list(request: HttpRequest) -> HttpResponse:
    form = MentionFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    mentions = mentions_for_explorer(filters, now=timezone.now())
    page = Paginator(mentions, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render_page_or_partial(
        request,
        "monitoring/mentions.html",
        "monitoring/partials/mention_results.html",
        {
            "form": form,
            "page": page,
            "query_string": query.urlencode(),
            "narrowing": form.narrowing(),
        },
    )
