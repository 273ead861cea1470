"""The scoring engine: one pure function from a mention and a compiled protocol to a Score."""
