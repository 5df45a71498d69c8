# Staff tools (issue #5): coverage report and batch questions. Included from the main Makefile.
# Reports are written under reports/ (git-ignored); every file is self-contained and can be e-mailed.

.PHONY: coverage ask

# FOLDS=N sets the number of cross-validation parts (default 5); SKIP_CV=1 skips cross-validation (fast).
coverage: $(MODEL)  ## Report for staff: how well the bot understands questions (reports/coverage/index.html)
	$(PY) -m vraagbaak.tools.coverage $(if $(FOLDS),--folds $(FOLDS)) $(if $(SKIP_CV),--skip-cv)

# Without URL the trained model answers (no running bot needed); with URL the running bot answers over REST.
# FAIL_ON_MISS=1 makes the command fail when an expected answer does not match.
ask: $(if $(URL),$(VENV)/.installed,$(MODEL))  ## Ask a list of questions: make ask FILE=vragen.txt [URL=http://localhost:5005]
	@$(PY) -m vraagbaak.tools.ask $(if $(FILE),"$(FILE)") $(if $(URL),--url "$(URL)") \
		$(if $(OUT),--out "$(OUT)") $(if $(FAIL_ON_MISS),--fail-on-miss)
