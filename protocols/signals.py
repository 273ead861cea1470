"""Signals protocols sends, so later stages (the board's rollups) hear of new or changed scores
without protocols importing them. Sent after the transaction that stored the scores commits."""

from django.dispatch import Signal

# kwargs: mention_ids (list[int]) whose score (and stored topics) were written, live or rescored.
mentions_scored = Signal()
