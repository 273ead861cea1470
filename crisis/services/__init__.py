"""Services: every state change goes through one function here (permission, write, audit)."""
