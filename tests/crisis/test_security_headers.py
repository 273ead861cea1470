"""Every response carries the Content-Security-Policy and Permissions-Policy headers, and the
templates hold nothing the policy would block (inline scripts, handlers, styles)."""

import re

import pytest
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.test import RequestFactory
from django.urls import include, path, reverse

from crisis.middleware import (
    ContentSecurityPolicyMiddleware,
    PermissionsPolicyMiddleware,
    build_content_security_policy,
)


@login_not_required
def _raise_an_error(request):
    raise RuntimeError("a bug in a view")


# A URLconf for the server-error test: Calma's own URLs plus one view that fails.
urlpatterns = [path("boom/", _raise_an_error), path("", include("crisis.urls"))]

DENIED_FEATURES = ("camera", "microphone", "geolocation", "payment", "usb")


def csp_directives(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (directive.split() for directive in header.split(";") if directive)
    }


def assert_security_headers(response) -> None:
    directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    permissions = response.headers["Permissions-Policy"]
    for feature in DENIED_FEATURES:
        assert f"{feature}=()" in permissions


def test_normal_page_carries_csp_and_permissions_policy(client, manager):
    client.force_login(manager)
    response = client.get(reverse("inbox"))
    assert response.status_code == 200
    assert_security_headers(response)


def test_login_page_carries_csp_and_permissions_policy(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert_security_headers(response)


def test_not_found_page_carries_csp_and_permissions_policy(client, manager):
    client.force_login(manager)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert_security_headers(response)


def test_permission_denied_page_carries_csp_and_permissions_policy(client, manager):
    client.force_login(manager)
    response = client.get(reverse("approvals"))
    assert response.status_code == 403
    assert_security_headers(response)


@pytest.mark.urls(__name__)
def test_server_error_page_carries_csp_and_permissions_policy(client, db):
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    assert_security_headers(response)


def test_csp_forbids_framing_plugins_and_foreign_form_targets(client, db):
    directives = csp_directives(client.get(reverse("login")))
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["connect-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]


def test_fallback_csp_middleware_sends_the_same_header_as_django():
    # Django 6 is the reference; on 5.2 (no django.utils.csp) the fallback is what runs.
    build_policy = pytest.importorskip("django.utils.csp").build_policy
    middleware = ContentSecurityPolicyMiddleware(lambda request: _plain_response())
    response = middleware(RequestFactory().get("/"))
    assert response.headers["Content-Security-Policy"] == build_policy(settings.SECURE_CSP)
    assert build_content_security_policy(settings.SECURE_CSP) == build_policy(settings.SECURE_CSP)


def test_permissions_policy_middleware_keeps_a_header_a_view_set_itself():
    def view_with_its_own_policy(request):
        response = _plain_response()
        response["Permissions-Policy"] = "fullscreen=(self)"
        return response

    response = PermissionsPolicyMiddleware(view_with_its_own_policy)(RequestFactory().get("/"))
    assert response.headers["Permissions-Policy"] == "fullscreen=(self)"


def _plain_response():
    from django.http import HttpResponse

    return HttpResponse("ok")


# What the policy blocks, as it would appear in a template: an inline <script> (one without
# src), a <style> element, a style="" attribute, an on…= handler, htmx's hx-on (evaluated
# code) and a javascript: URL.
INLINE_CODE = re.compile(
    r"<script\b(?![^>]*\bsrc=)[^>]*>"
    r"|<style\b"
    r"|\sstyle\s*="
    r"|\son[a-z]+\s*="
    r"|\bhx-on\b"
    r"|javascript:",
    re.IGNORECASE,
)


def test_templates_hold_no_inline_script_handler_or_style():
    offenders = []
    for template in sorted((settings.BASE_DIR / "templates").rglob("*.html")):
        for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1):
            if INLINE_CODE.search(line):
                relative = template.relative_to(settings.BASE_DIR)
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == [], "move these to static/js or static/css:\n" + "\n".join(offenders)
