"""Beat tasks that keep the per-hour rollups right (see crisis.board.rollups)."""
