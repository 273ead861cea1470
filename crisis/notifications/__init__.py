"""Notifications: in-app (the bell) and e-mail, in each user's language and time zone."""
