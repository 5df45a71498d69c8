"""Every run-time patch of Rasa, Sanic and rasa-sdk, one module each; `installer.install` puts them in place.

Only the process launchers (vraagbaak/ops) and the evaluation parser import the installer (pyproject.toml).
"""
