"""Presentation mode (for a council) and switching between the plan, compare and present
views."""
