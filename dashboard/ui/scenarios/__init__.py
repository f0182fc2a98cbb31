"""Saving, sharing, scenario files and the comparison."""
