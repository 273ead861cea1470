"""Who may open which page: anonymous users sign in first; roles see only their pages."""

import pytest
from django.urls import reverse

PAGES = ["home", "inbox", "approvals", "board", "admin:index", "people:list"]


@pytest.mark.parametrize("url_name", PAGES)
def test_anonymous_request_is_redirected_to_login(client, db, url_name):
    response = client.get(reverse(url_name), follow=True)
    final_url, _status = response.redirect_chain[-1]
    assert final_url.startswith(reverse("login"))
    assert b'name="password"' in response.content


def test_login_page_is_open_to_anonymous_users(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="password"' in response.content


@pytest.mark.parametrize("url_name", ["approvals", "admin:index", "board", "people:list"])
def test_community_manager_is_refused_supervisor_and_admin_pages(client, manager, url_name):
    client.force_login(manager)
    response = client.get(reverse(url_name))
    assert response.status_code == 403


def test_community_manager_can_open_the_inbox(client, manager):
    client.force_login(manager)
    assert client.get(reverse("inbox")).status_code == 200


@pytest.mark.parametrize(
    ("fixture", "home"),
    [
        ("manager", "inbox"),
        ("supervisor", "approvals"),
        ("executive", "board"),
        ("administrator", "monitoring:sources"),
    ],
)
def test_each_role_lands_on_its_home(client, request, fixture, home):
    client.force_login(request.getfixturevalue(fixture))
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url == reverse(home)
    assert client.get(response.url).status_code == 200


def test_login_form_signs_in_and_redirects_to_role_home(client, supervisor):
    response = client.post(
        reverse("login"),
        {"username": "boss", "password": "correct horse battery staple"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("approvals")


def test_wrong_password_shows_an_error(client, supervisor):
    response = client.post(reverse("login"), {"username": "boss", "password": "nope"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content


def test_user_without_role_is_told_so(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="nobody"))
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert b"no role" in response.content


def test_executive_navigation_shows_the_board_and_the_lists_they_read(client, executive):
    client.force_login(executive)
    content = client.get(reverse("board")).content.decode()
    # Executives read the lists behind the board's numbers (issue 12), never an action queue.
    navigation = content.split('aria-label="Main"', 1)[1].split("</nav>", 1)[0]
    assert reverse("board") in navigation
    assert f'href="{reverse("inbox")}"' in navigation
    assert reverse("monitoring:mentions") in navigation
    assert reverse("approvals") not in navigation
    assert reverse("protocols:list") not in navigation


def test_health_endpoint_is_public_and_checks_the_database(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_superuser_without_a_role_lands_in_django_admin(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="operator", is_superuser=True, is_staff=True))
    response = client.get(reverse("home"))
    assert response.url == reverse("admin:index")


def test_admin_navigation_shows_sources_import_quarantine_people_and_django_admin(
    client, administrator
):
    client.force_login(administrator)
    content = client.get(reverse("monitoring:sources")).content.decode()
    for url_name in (
        "monitoring:sources",
        "monitoring:import_csv",
        "monitoring:quarantine",
        "people:list",
        "admin:index",
    ):
        assert f'href="{reverse(url_name)}"' in content, url_name
