"""Publishing accounts for admins: list, create, edit, link sources, disable (confirmed) and
enable."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from crisis.replies import accounts
from crisis.replies.forms_sending import AccountSourcesForm, PublishingAccountForm
from crisis.replies.models import PublishingAccount
from crisis.roles import Perm

manage_publishing = permission_required(Perm.MANAGE_PUBLISHING, raise_exception=True)
PAGE_SIZE = 25


@manage_publishing
def account_list(request: HttpRequest) -> HttpResponse:
    listed = PublishingAccount.objects.annotate(source_count=Count("source_links")).order_by(
        "platform", "name", "pk"
    )
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(account, accounts.credentials_present(account)) for account in page]
    return render(request, "replies/accounts.html", {"page": page, "rows": rows})


@require_http_methods(["GET", "POST"])
@manage_publishing
def account_create(request: HttpRequest) -> HttpResponse:
    return _edit(request, PublishingAccount())


@require_http_methods(["GET", "POST"])
@manage_publishing
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit(request, get_object_or_404(PublishingAccount, pk=pk))


def _edit(request: HttpRequest, account: PublishingAccount) -> HttpResponse:
    form = PublishingAccountForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        is_new = account.pk is None
        account = accounts.save_account(actor=request.user, account=form.save(commit=False))
        message = (
            gettext("Publishing account “%(name)s” created.")
            if is_new
            else gettext("Publishing account “%(name)s” saved.")
        )
        messages.success(request, message % {"name": account.name})
        return redirect("replies:account_detail", pk=account.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "replies/accounts_form.html", {"form": form, "account": account}, status=status
    )


@manage_publishing
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(PublishingAccount, pk=pk)
    return _render_detail(
        request, account, AccountSourcesForm(account=account, initial=_linked(account))
    )


def _linked(account: PublishingAccount) -> dict:
    return {"sources": list(account.source_links.values_list("source_id", flat=True))}


def _render_detail(request, account, sources_form, status=200) -> HttpResponse:
    links = account.source_links.select_related("source").order_by("source__name")
    return render(
        request,
        "replies/accounts_detail.html",
        {
            "account": account,
            "secrets": accounts.secret_status(account),
            "credentials_ok": accounts.credentials_present(account),
            "linked_sources": [link.source for link in links],
            "sources_form": sources_form,
            "recent_replies": account.replies.select_related("incident").order_by(
                "-updated_at", "-pk"
            )[:10],
        },
        status=status,
    )


@require_POST
@manage_publishing
def account_sources(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(PublishingAccount, pk=pk)
    form = AccountSourcesForm(request.POST, account=account)
    if form.is_valid():
        try:
            linked = accounts.link_sources(
                actor=request.user, account=account, sources=form.cleaned_data["sources"]
            )
        except ValidationError as refused:
            form.add_error("sources", refused)
        else:
            messages.success(
                request,
                ngettext(
                    "“%(name)s” answers on %(count)s source.",
                    "“%(name)s” answers on %(count)s sources.",
                    len(linked),
                )
                % {"name": account.name, "count": len(linked)},
            )
            return redirect("replies:account_detail", pk=account.pk)
    return _render_detail(request, account, form, status=400)


@require_http_methods(["GET", "POST"])
@manage_publishing
def account_disable(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(PublishingAccount, pk=pk)
    if request.method == "POST":
        accounts.set_account_enabled(actor=request.user, account=account, enabled=False)
        messages.success(
            request,
            gettext("“%(name)s” is disabled: approved replies on its sources are copied by hand.")
            % {"name": account.name},
        )
        return redirect("replies:account_detail", pk=account.pk)
    return render(
        request,
        "replies/accounts_confirm_disable.html",
        {"account": account, "source_count": account.source_links.count()},
    )


@require_POST
@manage_publishing
def account_enable(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(PublishingAccount, pk=pk)
    accounts.set_account_enabled(actor=request.user, account=account, enabled=True)
    messages.success(request, gettext("“%(name)s” is enabled.") % {"name": account.name})
    return redirect("replies:account_detail", pk=account.pk)
