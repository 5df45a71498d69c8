# Staff insights (issue #5): counts per day and, only when opted in, redacted unanswered questions.
# Settings come from the environment, the same as for the bot: VRAAGBAAK_INSIGHTS_DB_URL,
# VRAAGBAAK_INSIGHTS_KEEP_TEXT, VRAAGBAAK_INSIGHTS_RETENTION_DAYS (see README, "Inzichten").

.PHONY: insights

insights: install  ## Rapport voor medewerkers: reports/insights/index.html (extra opties: INSIGHTS_ARGS="--dagen 90")
	$(PY) -m vraagbaak.tools.insights $(INSIGHTS_ARGS)
