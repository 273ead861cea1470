"""Response headers that the browser enforces: Permissions-Policy, and CSP on Django 5.2."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

PERMISSIONS_POLICY_HEADER = "Permissions-Policy"
CSP_HEADER = "Content-Security-Policy"


def build_permissions_policy(policy: dict[str, list[str]]) -> str:
    """`{"camera": [], "fullscreen": ["self"]}` → `camera=(), fullscreen=(self)`."""
    return ", ".join(f"{feature}=({' '.join(origins)})" for feature, origins in policy.items())


def build_content_security_policy(policy: dict[str, list[str]]) -> str:
    """`{"default-src": ["'self'"]}` → `default-src 'self'`, as Django 6's build_policy does."""
    return "; ".join(
        f"{directive} {' '.join(values)}".rstrip() for directive, values in policy.items()
    )


class PermissionsPolicyMiddleware:
    """Deny the browser features listed in settings.PERMISSIONS_POLICY on every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.header = build_permissions_policy(getattr(settings, "PERMISSIONS_POLICY", {}))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.header and PERMISSIONS_POLICY_HEADER not in response:
            response[PERMISSIONS_POLICY_HEADER] = self.header
        return response


class ContentSecurityPolicyMiddleware:
    """settings.SECURE_CSP as a header where Django (5.2 LTS) has no CSP middleware of its own.

    The policy needs no nonce, so this is all Django 6's middleware would do for it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.header = build_content_security_policy(getattr(settings, "SECURE_CSP", {}))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.header and CSP_HEADER not in response:
            response[CSP_HEADER] = self.header
        return response
