"""Signals monitoring sends, so later stages (the board's rollups) hear of new mentions without
monitoring importing them. Sent after the transaction that stored the mentions commits."""

from django.dispatch import Signal

# kwargs: mention_ids (list[int]), the mentions stored or updated by one ingest call.
mentions_stored = Signal()
