# Website widget: demo server and browser-test dependencies (included from the main Makefile).
# Chromium comes from Debian and Playwright drives it via executable_path, so no browser download is ever needed.

.PHONY: web-deps web

web-deps: install  ## Browser tests: Debian Chromium, axe-core and rasa-webchat (npm ci), Playwright for Python
	@test -x /usr/bin/chromium || { apt-get update && apt-get install -y chromium; }
	@# npm ci again whenever the lock file is newer than what was installed from it.
	@test web/node_modules/.package-lock.json -nt web/package-lock.json || npm ci --prefix web --no-audit --no-fund
	@$(PY) -c 'import playwright' 2>/dev/null || $(PY) -m pip install -q playwright

web: install  ## Serve the demo page with the widget on http://localhost:8080 (start `make run` too)
	$(PY) -m vraagbaak.ops.web
