"""The daily digest e-mail, sent by beat (see crisis.board.digest)."""
