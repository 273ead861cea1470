"""Forms of the notifications page: what a click on a notification asks for."""

from django import forms


class MarkReadForm(forms.Form):
    # Checked by the "Open" button: mark read, then follow the notification's link.
    open = forms.BooleanField(required=False)
