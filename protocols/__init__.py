"""Protocols: versioned response protocols, the scoring engine, spike detection, backtests."""
