"""PagerDuty: the REST client, Events API v2, and the incident provider and sync."""
