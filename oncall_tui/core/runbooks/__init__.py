"""Runbooks: the library, parameters, the runner and its guard, step runs, recovery, lint."""
