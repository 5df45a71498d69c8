"""Outreach reports: coverage, batch questions (`make ask`) and the insights report, with their shared HTML pieces."""
