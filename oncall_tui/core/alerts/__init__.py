"""Alerts: the models, the Alertmanager client, the merged board, matchers, tracking and routes."""
