"""Rasa's HTTP API, as the console uses it: parse a text, read the status, load a model.

`POST /model/parse` runs only the NLU pipeline: no conversation is created and nothing is counted in the
insights. The API token goes in the query string (Rasa's `--auth-token`); error messages from `requests`
quote the URL, so they are never passed on or logged: only a Dutch message and the error type.
"""
from __future__ import annotations

import threading
from typing import Any, Dict

import requests

from vraagbaak.console.jobs import ConsoleError

PARSE_TIMEOUT = 15.0
# Pages ask for the status while they render: a bot that is busy loading a model must not hold them up long.
STATUS_TIMEOUT = 3.0
MODEL_LOAD_TIMEOUT = 300.0


class RasaUnavailable(ConsoleError):
    """The bot could not be reached or refused the console."""


class RasaClient:
    """A small client for one Rasa server with a token-protected API."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self._local = threading.local()  # requests.Session is not thread-safe: one per thread

    @property
    def configured(self) -> bool:
        """Whether the console knows the token of the bot's API (`make run` passes it)."""
        return bool(self._token)

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _call(self, method: str, path: str, timeout: float, body: Dict[str, Any] | None = None) -> Any:
        if not self._token:
            raise RasaUnavailable(
                "De console kent het wachtwoord van de bot niet. Start alles samen met `make run`, "
                "of geef VRAAGBAAK_CONSOLE_RASA_TOKEN mee."
            )
        try:
            response = self._session().request(
                method, self.url + path, params={"token": self._token}, json=body, timeout=timeout
            )
        except requests.RequestException as error:
            raise RasaUnavailable(
                f"De bot antwoordt niet ({type(error).__name__}). Draait hij? Start hem met `make run`."
            ) from None
        if response.status_code in (401, 403):
            raise RasaUnavailable("De bot weigert de console: het wachtwoord van de bot klopt niet.")
        if response.status_code == 204:
            return None
        if response.status_code >= 400:
            raise RasaUnavailable(f"De bot gaf een fout (HTTP {response.status_code}).")
        try:
            return response.json()
        except ValueError:
            raise RasaUnavailable("De bot gaf een onleesbaar antwoord.") from None

    def parse(self, text: str) -> Dict[str, Any]:
        """The NLU result for one text (intent, ranking), without a conversation."""
        return dict(self._call("POST", "/model/parse", PARSE_TIMEOUT, {"text": text}))

    def status(self) -> Dict[str, Any]:
        """Rasa's /status: among others `model_file`, the model it serves."""
        return dict(self._call("GET", "/status", STATUS_TIMEOUT))

    def load_model(self, model_file: str) -> None:
        """`PUT /model`: serve another model from now on (running conversations are kept, see adapters/stores.py)."""
        self._call("PUT", "/model", MODEL_LOAD_TIMEOUT, {"model_file": model_file})
