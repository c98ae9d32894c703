"""Widgets of the console: each owns its rendering."""
