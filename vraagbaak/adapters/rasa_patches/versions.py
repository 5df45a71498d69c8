"""The versions the patches were written and tested for: any other refuses to start, with a clear message.

Why: the patches replace private Rasa, Sanic and rasa-sdk code. After an upgrade a changed name fails at import,
but a changed behaviour would pass unnoticed; the A/B tests prove each patch equal to these versions only.
"""
from __future__ import annotations

from importlib import metadata
from typing import Dict, Iterable

TESTED: Dict[str, str] = {"rasa": "3.6.21", "rasa-sdk": "3.6.2", "sanic": "21.12.2"}


class UnsupportedVersion(RuntimeError):
    """A package the patches touch is not the version they were tested for."""


def check_versions(packages: Iterable[str]) -> None:
    """Raise UnsupportedVersion, with a Dutch sentence for the operator, unless each package is its TESTED version."""
    for package in packages:
        try:
            found = metadata.version(package)
        except metadata.PackageNotFoundError:
            found = "geen"
        if found != TESTED[package]:
            raise UnsupportedVersion(
                f"{package} {found} is geïnstalleerd, maar de aanpassingen van Vraagbaak aan {package} "
                f"(vraagbaak/adapters/rasa_patches) zijn geschreven en getest voor {package} {TESTED[package]}. "
                "Installeer die versie (requirements.lock), of toets en werk de aanpassingen eerst bij."
            )
