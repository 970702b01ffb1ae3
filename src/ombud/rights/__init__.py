"""Data subject requests: intake, verification, deadlines, decisions, plans, execution."""
