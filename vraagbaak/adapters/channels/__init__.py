"""Rasa input channels with Vraagbaak's safety fixes."""

from typing import Any, Dict, Iterable

from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse


def required_settings(
    label: str, credentials: Dict[str, Any] | None, required: Iterable[str]
) -> Dict[str, Any]:
    """The channel's credentials, refusing to start when a required setting is missing."""
    credentials = credentials or {}
    missing = [key for key in required if not credentials.get(key)]
    if missing:
        raise RasaException(f"{label}: ontbrekende instellingen {missing}")
    return credentials


def blueprint_with_health(name: str) -> Blueprint:
    """A channel blueprint with Rasa's health route (GET / → {"status": "ok"}) already on it."""
    blueprint = Blueprint(name, __name__)

    @blueprint.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    return blueprint
