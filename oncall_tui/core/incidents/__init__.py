"""Incidents: the journal (timeline), the incident, the desk, following a poll, postmortem, report."""
