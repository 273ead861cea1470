"""Views of the protocols app: versions, the editor, diff, backtests."""
