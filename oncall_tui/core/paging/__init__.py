"""Paging: the pagers (Alertmanager, PagerDuty Events) and keeping pages true at their service."""
