"""Landing: send each signed-in user to their role's home page."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from crisis.roles import home_url_for


def home(request: HttpRequest) -> HttpResponse:
    url = home_url_for(request.user)
    if url is None:
        return render(request, "crisis/no_role.html", status=403)
    return redirect(url)
