"""Publishing accounts: admins register them per platform with their secrets by reference,
see whether each secret is set (never its value), link sources of the same platform, and
disable them after a confirmation; every change is audited. Every URL per role."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from crisis.models import AuditEvent
from crisis.replies import accounts
from crisis.replies.models import PublishingAccount, SourceAccount
from monitoring.platforms import Platform
from tests.replies import sending_factories as make

pytestmark = pytest.mark.django_db


def audit_verbs(target) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type=target._meta.label_lower, object_id=str(target.pk))
        .order_by("pk")
        .values_list("verb", flat=True)
    )


# --- create and edit ------------------------------------------------------------------------
def test_admin_creates_an_account_and_it_is_audited(client, administrator):
    client.force_login(administrator)
    response = client.post(
        reverse("replies:account_create"),
        {
            "platform": "mastodon",
            "name": "Brisa on Mastodon",
            "handle": "@brisa@mastodon.example",
            "base_url": "https://mastodon.example",
            "credentials_ref": "MASTODON_REPLIES",
        },
    )
    created = PublishingAccount.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("replies:account_detail", args=[created.pk])
    assert created.handle == "brisa@mastodon.example"  # the leading @ is dropped
    assert created.enabled
    assert audit_verbs(created) == ["publishing_account.create"]


def test_platforms_without_writes_cannot_have_an_account(client, administrator):
    client.force_login(administrator)
    form_page = client.get(reverse("replies:account_create")).content.decode()
    assert 'value="mastodon"' in form_page and 'value="bluesky"' in form_page
    assert 'value="feed"' not in form_page and 'value="csv"' not in form_page
    response = client.post(
        reverse("replies:account_create"),
        {"platform": "feed", "name": "Feed", "handle": "x", "credentials_ref": "FEED"},
    )
    assert response.status_code == 400
    assert not PublishingAccount.objects.exists()


def test_a_mastodon_account_needs_its_instance_over_http_or_https(client, administrator):
    client.force_login(administrator)
    data = {"platform": "mastodon", "name": "M", "handle": "brisa", "credentials_ref": "M1"}
    assert client.post(reverse("replies:account_create"), data).status_code == 400
    data["base_url"] = "ftp://mastodon.example"
    assert client.post(reverse("replies:account_create"), data).status_code == 400
    assert not PublishingAccount.objects.exists()


def test_credentials_reference_is_a_name_not_a_secret(client, administrator):
    client.force_login(administrator)
    response = client.post(
        reverse("replies:account_create"),
        {"platform": "reddit", "name": "R", "handle": "brisa", "credentials_ref": "abc def!"},
    )
    assert response.status_code == 400
    assert not PublishingAccount.objects.exists()


def test_changing_the_platform_unlinks_the_old_platforms_sources(administrator):
    masto_source = make.source(Platform.MASTODON)
    made = make.account(Platform.MASTODON, sources=(masto_source,))
    made.platform = Platform.REDDIT
    made.base_url = ""
    accounts.save_account(actor=administrator, account=made)
    assert not SourceAccount.objects.exists()
    event = AuditEvent.objects.get(verb="publishing_account.update")
    assert event.after["unlinked_sources"] == [masto_source.pk]


def test_only_admins_manage_accounts_in_the_service(supervisor):
    with pytest.raises(PermissionDenied):
        accounts.save_account(
            actor=supervisor,
            account=PublishingAccount(
                platform="reddit", name="R", handle="b", credentials_ref="R1"
            ),
        )


# --- secrets ----------------------------------------------------------------------------------
def test_the_page_says_whether_each_secret_is_set_and_never_shows_it(
    client, administrator, monkeypatch
):
    made = make.account(Platform.BLUESKY, ref="BSKY_BRAND")
    monkeypatch.setenv("CALMA_SECRET_BSKY_BRAND_APP_PASSWORD", "very-secret-app-password")
    client.force_login(administrator)
    page = client.get(reverse("replies:account_detail", args=[made.pk])).content.decode()
    assert "CALMA_SECRET_BSKY_BRAND_APP_PASSWORD" in page
    assert "present" in page
    assert "very-secret-app-password" not in page
    listing = client.get(reverse("replies:accounts")).content.decode()
    assert "very-secret-app-password" not in listing


def test_credentials_present_needs_every_secret_of_the_platform(monkeypatch):
    made = make.account(Platform.MASTODON, ref="MASTO_X")
    assert not accounts.credentials_present(made)
    monkeypatch.setenv("CALMA_SECRET_MASTO_X_ACCESS_TOKEN", "t")
    assert accounts.credentials_present(made)
    monkeypatch.setenv("CALMA_SECRET_MASTO_X_ACCESS_TOKEN", "")
    assert not accounts.credentials_present(made)


def test_missing_secret_is_shown_as_missing(client, administrator):
    made = make.account(Platform.REDDIT, ref="REDDIT_NONE")
    client.force_login(administrator)
    page = client.get(reverse("replies:account_detail", args=[made.pk])).content.decode()
    assert "CALMA_SECRET_REDDIT_NONE_ACCESS_TOKEN" in page
    assert "missing" in page
    assert "Calma cannot post with this account" in page


# --- sources ----------------------------------------------------------------------------------
def test_admin_picks_the_sources_an_account_answers_on(client, administrator):
    first, second = make.source(Platform.MASTODON), make.source(Platform.MASTODON)
    other_platform = make.source(Platform.BLUESKY)
    made = make.account(Platform.MASTODON)
    client.force_login(administrator)
    page = client.get(reverse("replies:account_detail", args=[made.pk])).content.decode()
    assert first.name in page and second.name in page
    assert other_platform.name not in page  # only the account's platform is offered
    response = client.post(
        reverse("replies:account_sources", args=[made.pk]), {"sources": [first.pk, second.pk]}
    )
    assert response.status_code == 302
    assert set(SourceAccount.objects.values_list("source_id", "account_id")) == {
        (first.pk, made.pk),
        (second.pk, made.pk),
    }
    assert audit_verbs(made) == ["publishing_account.link_sources"]


def test_a_source_of_another_platform_is_refused(client, administrator):
    other_platform = make.source(Platform.BLUESKY)
    made = make.account(Platform.MASTODON)
    client.force_login(administrator)
    response = client.post(
        reverse("replies:account_sources", args=[made.pk]), {"sources": [other_platform.pk]}
    )
    assert response.status_code == 400
    assert not SourceAccount.objects.exists()
    with pytest.raises(ValidationError):
        accounts.link_sources(actor=administrator, account=made, sources=[other_platform])


def test_linking_takes_a_source_over_and_unlinks_the_ones_not_chosen(administrator):
    kept, dropped, taken = (make.source(Platform.REDDIT) for _ in range(3))
    first = make.account(Platform.REDDIT, sources=(kept, dropped))
    second = make.account(Platform.REDDIT, sources=(taken,))
    accounts.link_sources(actor=administrator, account=first, sources=[kept, taken])
    assert dict(SourceAccount.objects.values_list("source_id", "account_id")) == {
        kept.pk: first.pk,
        taken.pk: first.pk,
    }
    event = AuditEvent.objects.get(verb="publishing_account.link_sources")
    assert event.before == {"sources": sorted([kept.pk, dropped.pk])}
    assert event.after["sources"] == sorted([kept.pk, taken.pk])
    assert event.after["taken_from"] == {str(taken.pk): second.pk}


def test_the_source_page_names_its_answering_account(client, administrator):
    found_by = make.source(Platform.MASTODON)
    made = make.account(Platform.MASTODON, sources=(found_by,))
    lonely = make.source(Platform.MASTODON)
    client.force_login(administrator)
    page = client.get(reverse("monitoring:source_detail", args=[found_by.pk])).content.decode()
    assert made.name in page
    assert reverse("replies:account_detail", args=[made.pk]) in page
    page = client.get(reverse("monitoring:source_detail", args=[lonely.pk])).content.decode()
    assert "No publishing account" in page


# --- disable and enable -------------------------------------------------------------------------
def test_disabling_asks_for_confirmation_first(client, administrator):
    made = make.account(Platform.MASTODON)
    client.force_login(administrator)
    confirm = client.get(reverse("replies:account_disable", args=[made.pk]))
    assert confirm.status_code == 200
    assert "Disable the account" in confirm.content.decode()
    made.refresh_from_db()
    assert made.enabled
    assert client.post(reverse("replies:account_disable", args=[made.pk])).status_code == 302
    made.refresh_from_db()
    assert not made.enabled
    assert client.post(reverse("replies:account_enable", args=[made.pk])).status_code == 302
    made.refresh_from_db()
    assert made.enabled
    assert audit_verbs(made) == ["publishing_account.disable", "publishing_account.enable"]


def test_disabling_twice_is_audited_once(administrator):
    made = make.account(Platform.MASTODON)
    accounts.set_account_enabled(actor=administrator, account=made, enabled=False)
    accounts.set_account_enabled(actor=administrator, account=made, enabled=False)
    assert audit_verbs(made) == ["publishing_account.disable"]


def test_the_list_is_paginated_and_has_an_empty_state(client, administrator):
    client.force_login(administrator)
    assert "No publishing accounts yet" in client.get(reverse("replies:accounts")).content.decode()
    for _ in range(accounts_page_size() + 1):
        make.account(Platform.REDDIT)
    page = client.get(reverse("replies:accounts")).content.decode()
    assert "Page 1 of 2" in page
    assert client.get(reverse("replies:accounts") + "?page=2").status_code == 200


def accounts_page_size() -> int:
    from crisis.replies.views.accounts import PAGE_SIZE

    return PAGE_SIZE


def test_admin_navigation_links_to_publishing_accounts(client, administrator, manager):
    client.force_login(administrator)
    assert reverse("replies:accounts") in client.get(reverse("monitoring:sources")).content.decode()
    client.force_login(manager)
    assert reverse("replies:accounts") not in client.get(reverse("inbox")).content.decode()


# --- every URL, per role --------------------------------------------------------------------------
ACCOUNT_URLS = [
    ("get", "replies:accounts", False),
    ("get", "replies:account_create", False),
    ("post", "replies:account_create", False),
    ("get", "replies:account_detail", True),
    ("get", "replies:account_edit", True),
    ("post", "replies:account_edit", True),
    ("post", "replies:account_sources", True),
    ("get", "replies:account_disable", True),
    ("post", "replies:account_disable", True),
    ("post", "replies:account_enable", True),
]


def _url(name: str, needs_pk: bool, pk: int) -> str:
    return reverse(name, args=[pk]) if needs_pk else reverse(name)


@pytest.mark.parametrize(("method", "name", "needs_pk"), ACCOUNT_URLS)
def test_anonymous_is_sent_to_sign_in(client, method, name, needs_pk):
    made = make.account(Platform.MASTODON)
    response = getattr(client, method)(_url(name, needs_pk, made.pk))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("role", ["manager", "supervisor", "executive"])
@pytest.mark.parametrize(("method", "name", "needs_pk"), ACCOUNT_URLS)
def test_only_admins_reach_publishing_accounts(client, request, role, method, name, needs_pk):
    made = make.account(Platform.MASTODON)
    client.force_login(request.getfixturevalue(role))
    response = getattr(client, method)(_url(name, needs_pk, made.pk))
    assert response.status_code == 403
    made.refresh_from_db()
    assert made.enabled
    assert PublishingAccount.objects.count() == 1


@pytest.mark.parametrize(("method", "name", "needs_pk"), ACCOUNT_URLS)
def test_admin_reaches_every_publishing_account_url(client, administrator, method, name, needs_pk):
    made = make.account(Platform.MASTODON)
    client.force_login(administrator)
    response = getattr(client, method)(_url(name, needs_pk, made.pk))
    # A GET shows its page; an empty POST either acts (redirect) or shows its form's errors.
    expected = {200} if method == "get" else {302, 400}
    assert response.status_code in expected


def test_unknown_account_is_not_found(client, administrator):
    client.force_login(administrator)
    assert client.get(reverse("replies:account_detail", args=[999999])).status_code == 404
