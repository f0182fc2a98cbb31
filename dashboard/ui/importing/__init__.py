"""Importing a city: the dialog, staging uploads, the check and its report."""
