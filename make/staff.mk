# Staff tools: coverage report, batch questions and the insights report. Included from the main Makefile.
# Reports are written under reports/ (git-ignored); every file is self-contained and can be e-mailed.

.PHONY: coverage ask

# FOLDS=N sets the number of cross-validation parts (default 5); SKIP_CV=1 skips cross-validation (fast).
coverage: $(MODEL)  ## Report for staff: how well the bot understands questions (reports/coverage/index.html)
	$(PY) -m vraagbaak.staff.coverage $(if $(FOLDS),--folds $(FOLDS)) $(if $(SKIP_CV),--skip-cv)

# Without URL the trained model answers (no running bot needed); with URL the running bot answers over REST.
# FAIL_ON_MISS=1 makes the command fail when an expected answer does not match.
ask: $(if $(URL),$(VENV)/.installed,$(MODEL))  ## Ask a list of questions: make ask FILE=vragen.txt [URL=http://localhost:5005]
	@$(PY) -m vraagbaak.staff.ask $(if $(FILE),"$(FILE)") $(if $(URL),--url "$(URL)") \
		$(if $(OUT),--out "$(OUT)") $(if $(FAIL_ON_MISS),--fail-on-miss)

# Insights: counts per day and, only when opted in, redacted unanswered questions.
# Settings come from the environment, the same as for the bot: VRAAGBAAK_INSIGHTS_DB_URL,
# VRAAGBAAK_INSIGHTS_KEEP_TEXT, VRAAGBAAK_INSIGHTS_RETENTION_DAYS (see docs/medewerkers/inzichten.md).

.PHONY: insights

insights: install  ## Rapport voor medewerkers: reports/insights/index.html (extra opties: INSIGHTS_ARGS="--dagen 90")
	$(PY) -m vraagbaak.staff.insights_report $(INSIGHTS_ARGS)

# The staff console (vraagbaak/staff/console): `make run` starts it with the bot on http://127.0.0.1:8090.
# No default password: set one first. The hash goes to .run/console-password (mode 0600).

.PHONY: console console-password

console-password: install  ## Set the staff console's password (asked twice, not shown)
	@$(PY) -m vraagbaak.staff.console.password

console: install  ## Start only the staff console (the bot's API token comes from VRAAGBAAK_CONSOLE_RASA_TOKEN)
	$(PY) -m vraagbaak.staff.console
