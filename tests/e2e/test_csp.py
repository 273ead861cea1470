"""Under the Content-Security-Policy, every page each role can reach still works in a browser:
no policy violation, no console error, its main heading rendered; htmx and the keyboard
shortcuts keep working.

The pages are not listed here: each role's crawl starts from where it lands after signing in
and from every GET page of the URLconf, keeps those that answer it 200, and follows the links
they show, so a page added later (or a role's pages changing) is covered without editing
this test.
"""

import re
from collections import deque
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils import timezone
from playwright.sync_api import expect

from crisis.demo import DEMO_LOGINS, create_demo_users
from crisis.roles import Perm
from monitoring.connectors.base import AuthorIn, MentionIn
from monitoring.ingest import ingest_mentions
from monitoring.models import QuarantinedItem, Source
from monitoring.platforms import Platform, QueryKind
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

# Installed before any page script: a CSP violation is recorded in the page itself, so it is
# seen even when the browser would log nothing.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} at ` +
    `${event.sourceFile}:${event.lineNumber}`
  );
});
"""

# URL names never visited: they act (sign out, switch language) or are for machines.
NOT_PAGES = {"logout", "login", "set_language", "healthz", "monitoring:webhook"}
MAX_PAGES_PER_ROLE = 80

MENTION_TEXTS = {
    "billing": "Me habéis cobrado dos veces la factura, quiero mi dinero ya",
    "outage": "No internet for three days and nobody answers, terrible",
}


def seed_one_of_everything() -> None:
    """A source with mentions and a quarantined item, a draft protocol and a finished
    backtest, so that every detail page has something to show."""
    from protocols.backtest import run_backtest
    from protocols.services import create_draft, ensure_default_protocol, start_backtest

    create_demo_users()
    ensure_default_protocol()
    source = Source.objects.create(
        name="Brisa feed",
        platform=Platform.FEED,
        kind=QueryKind.FEED_URL,
        query="https://news.example.org/brisa.xml",
    )
    now = timezone.now()
    ingest_mentions(
        [
            MentionIn(
                platform=Platform.FEED,
                external_id=key,
                url=f"https://news.example.org/{key}",
                text=text,
                published_at=now - timezone.timedelta(hours=1),
                author=AuthorIn(handle=f"{key}-author"),
            )
            for key, text in MENTION_TEXTS.items()
        ],
        source_id=source.pk,
    )
    QuarantinedItem.objects.create(
        source=source, platform=Platform.FEED, reason="entry without a link", raw={"title": "x"}
    )
    from django.contrib.auth import get_user_model

    supervisor = get_user_model().objects.get(username="supervisor")
    draft = create_draft(actor=supervisor)
    run_backtest(start_backtest(actor=supervisor, draft=draft, days=7))


def sign_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    assert page.evaluate("window.__cspViolations") == [], "CSP violations on the login page"
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def urlconf_get_pages() -> list[str]:
    """Every URL of the URLconf that takes no argument (those that do are reached by links)."""
    paths = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if pattern.namespace != "admin":
                    walk(pattern.url_patterns, prefix + route)
            elif isinstance(pattern, URLPattern) and not re.search(r"[<(]", route):
                paths.append("/" + prefix + route)

    walk(get_resolver().url_patterns, "")
    return paths


def page_key(url: str) -> tuple[str, frozenset[str]] | None:
    """One visit per view and set of query parameters; None for what is not a Calma page."""
    parts = urlsplit(url)
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    name = match.view_name
    if name in NOT_PAGES:
        return None
    if name.startswith("admin:"):
        # Django admin's own pages: its index, and each model's list and forms once (not
        # every filter, object or history of them).
        if name == "admin:index" or name.endswith(("_changelist", "_change", "_add")):
            return name, frozenset()
        return None
    return name, frozenset(key for key, _value in parse_qsl(parts.query))


class PageWatch:
    """Console errors and uncaught exceptions of one browser page, collected as they come."""

    def __init__(self, page):
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))

    def _console(self, message) -> None:
        if message.type == "error":
            self.problems.append(f"console: {message.text}")


def crawl(
    page, watch: PageWatch, base_url: str, landing: str
) -> dict[tuple[str, frozenset[str]], str]:
    """Visit every page the signed-in user can reach; fail on the first one that breaks."""
    queue = deque([landing, *(base_url + path for path in urlconf_get_pages())])
    visited: dict[tuple[str, frozenset[str]], str] = {}
    while queue and len(visited) < MAX_PAGES_PER_ROLE:
        url = queue.popleft()
        if not url.startswith(base_url):
            continue
        key = page_key(url)
        if key is None or key in visited:
            continue
        # Only pages this role may open: a refusal is not a page the role reaches.
        answer = page.request.get(url, max_redirects=0)
        if answer.status != 200:
            continue
        if not answer.headers.get("content-type", "").startswith("text/html"):
            continue  # a download (CSV, PDF, Markdown export) is not a page
        visited[key] = url
        page.goto(url)
        # Until the network is quiet, so that late requests (htmx, the favicon) are judged too.
        page.wait_for_load_state("networkidle")
        heading = page.locator("h1").first
        assert heading.is_visible() and heading.inner_text().strip(), f"no heading on {url}"
        violations = page.evaluate("window.__cspViolations")
        assert violations == [], f"CSP violations on {url}: {violations}"
        assert watch.problems == [], f"console errors on {url}: {watch.problems}"
        # getAttribute, not .href: an SVG link's href is an object, not the URL (board charts).
        links = page.eval_on_selector_all(
            "a[href]:not([download])",
            "links => links.map(link => new URL(link.getAttribute('href'), document.baseURI).href)",
        )
        queue.extend(link.split("#", 1)[0] for link in links)
    print(f"visited {len(visited)} pages:", *sorted(visited.values()), sep="\n  ")
    return visited


def expected_pages(user) -> set[str]:
    """The pages a role's permissions promise, from the permissions themselves."""
    expected = set()
    if user.has_perm(Perm.TRIAGE):
        expected.add("inbox")
    if user.has_perm(Perm.APPROVE_REPLIES):
        expected.add("approvals")
    if user.has_perm(Perm.VIEW_BOARD):
        expected.add("board")
    if user.has_perm(Perm.VIEW_MENTIONS):
        expected.add("monitoring:mentions")
    if user.has_perm(Perm.MANAGE_SOURCES):
        expected |= {
            "monitoring:sources",
            "monitoring:source_detail",
            "monitoring:source_create",
            "monitoring:source_edit",
            "monitoring:import_csv",
            "monitoring:quarantine",
            "monitoring:quarantine_detail",
        }
    if user.has_perm(Perm.EDIT_PROTOCOL):
        expected |= {
            "protocols:list",
            "protocols:detail",
            "protocols:edit_section",
            "protocols:compare",
            "protocols:backtest",
        }
    if user.is_staff:
        expected.add("admin:index")
    return expected


@pytest.mark.parametrize("demo", DEMO_LOGINS, ids=lambda demo: demo.role.value)
def test_every_page_of_a_role_works_under_the_csp(
    page, live_server, transactional_db, redis_client, demo
):
    from django.contrib.auth import get_user_model

    seed_one_of_everything()
    page.add_init_script(RECORD_VIOLATIONS)
    watch = PageWatch(page)
    sign_in(page, live_server.url, demo.username, demo.password)
    visited = crawl(page, watch, live_server.url, page.url)
    user = get_user_model().objects.get(username=demo.username)
    missing = expected_pages(user) - {name for name, _query in visited}
    assert not missing, f"{demo.role.value} never reached {sorted(missing)}"


def test_error_pages_render_under_the_csp(page, live_server, transactional_db, redis_client):
    seed_one_of_everything()
    page.add_init_script(RECORD_VIOLATIONS)
    sign_in(page, live_server.url, "executive", "calma-executive")
    for path, status in (("/approvals/", 403), ("/no-such-page/", 404)):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == status
        page.wait_for_load_state("networkidle")
        assert page.locator("h1").first.is_visible()
        assert page.evaluate("window.__cspViolations") == [], f"CSP violations on {path}"


def test_filtering_the_mentions_explorer_works_under_the_csp(
    page, live_server, transactional_db, redis_client
):
    seed_one_of_everything()
    page.add_init_script(RECORD_VIOLATIONS)
    watch = PageWatch(page)
    sign_in(page, live_server.url, "manager", "calma-manager")
    page.goto(f"{live_server.url}/monitoring/mentions/")
    results = page.locator("#mention-results")
    assert MENTION_TEXTS["outage"][:20] in results.inner_text()

    # htmx fetches the results as you type (on keyup), swaps them in and pushes the URL.
    page.get_by_label("Search").press_sequentially("factura")
    expect(results).not_to_contain_text(MENTION_TEXTS["outage"][:20])
    expect(results).to_contain_text(MENTION_TEXTS["billing"][:20])
    expect(page).to_have_url(re.compile(r"[?&]q=factura"))
    assert page.evaluate("window.__cspViolations") == []
    assert watch.problems == []


def test_keyboard_shortcuts_work_under_the_csp(page, live_server, transactional_db, redis_client):
    seed_one_of_everything()
    page.add_init_script(RECORD_VIOLATIONS)
    watch = PageWatch(page)
    sign_in(page, live_server.url, "supervisor", "calma-supervisor")

    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    help_dialog.wait_for()
    help_dialog.get_by_role("button", name="Close").click()
    help_dialog.wait_for(state="hidden")

    page.keyboard.press("g")
    page.keyboard.press("m")
    page.wait_for_url(re.compile(r"/monitoring/mentions/$"))
    page.get_by_role("heading", name="Mentions", level=1).wait_for()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "id_q"
    screenshot(page, "csp-shortcuts")
    assert page.evaluate("window.__cspViolations") == []
    assert watch.problems == []
