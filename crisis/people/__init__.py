"""People: the accounts of the team, their roles, and the way an admin manages them in Calma."""
