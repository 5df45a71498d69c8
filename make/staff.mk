# Staff tools: coverage report, batch questions and the insights report. Included from the main Makefile.
# Reports are written under reports/ (git-ignored); every file is self-contained and can be e-mailed.

.PHONY: coverage ask

# FOLDS=N sets the number of cross-validation parts (default 5); SKIP_CV=1 skips cross-validation (fast).
coverage: $(MODEL)  ## Report for staff: how well the bot understands questions (reports/coverage/index.html)
	$(PY) -m vraagbaak.reports.coverage $(if $(FOLDS),--folds $(FOLDS)) $(if $(SKIP_CV),--skip-cv)

# Without URL the trained model answers (no running bot needed); with URL the running bot answers over REST.
# FAIL_ON_MISS=1 makes the command fail when an expected answer does not match.
ask: $(if $(URL),$(VENV)/.installed,$(MODEL))  ## Ask a list of questions: make ask FILE=vragen.txt [URL=http://localhost:5005]
	@$(PY) -m vraagbaak.reports.ask $(if $(FILE),"$(FILE)") $(if $(URL),--url "$(URL)") \
		$(if $(OUT),--out "$(OUT)") $(if $(FAIL_ON_MISS),--fail-on-miss)

# Insights: counts per day and, only when opted in, redacted unanswered questions.
# Settings come from the environment, the same as for the bot: VRAAGBAAK_INSIGHTS_DB_URL,
# VRAAGBAAK_INSIGHTS_KEEP_TEXT, VRAAGBAAK_INSIGHTS_RETENTION_DAYS (see docs/medewerkers/inzichten.md).

.PHONY: insights

insights: install  ## Rapport voor medewerkers: reports/insights/index.html (extra opties: INSIGHTS_ARGS="--dagen 90")
	$(PY) -m vraagbaak.reports.insights_report $(INSIGHTS_ARGS)

# The staff console (vraagbaak/console): `make run` starts it with the bot on http://127.0.0.1:8090.
# One account per member of staff, no default: make one first. Names and argon2 hashes go to
# .run/console-accounts (mode 0600); the old shared .run/console-password becomes the account "medewerker".

.PHONY: console console-user console-user-remove console-user-list console-password

console-user: install  ## Add a console account or give it a new password (name and password asked, not on the command line)
	@$(PY) -m vraagbaak.console.account_command

console-user-remove: install  ## Remove a console account: make console-user-remove NAME=Ann
	@$(PY) -m vraagbaak.console.account_command --verwijder "$(NAME)"

console-user-list: install  ## List the names of the console accounts
	@$(PY) -m vraagbaak.console.account_command --lijst

console-password: console-user  ## Old name of console-user

console: install  ## Start only the staff console (the bot's API token comes from VRAAGBAAK_CONSOLE_RASA_TOKEN)
	$(PY) -m vraagbaak.console
