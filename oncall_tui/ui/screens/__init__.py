"""Screens of the console: each owns one task (a form, a list, a confirmation, help)."""
