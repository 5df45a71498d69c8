"""`python -m vraagbaak.console`: start the console (`make console`, or with the bot by `make run`).

Refuses to start without an account (`make console-user`); the shared password of earlier versions becomes
the account "medewerker" here. Address and port come from
VRAAGBAAK_CONSOLE_HOST and VRAAGBAAK_CONSOLE_PORT (127.0.0.1:8090); the options below are for tests.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Sequence

from vraagbaak.console.account_command import migrate
from vraagbaak.console.accounts import read_accounts
from vraagbaak.console.workspace import Workspace
from vraagbaak.core.settings import CONSOLE_RASA_TOKEN_ENV, ConfigError, Settings

NO_ACCOUNT = (
    "De console start niet: er is nog geen account. Typ eerst `make console-user`, kies een naam en een "
    "wachtwoord van minstens 12 tekens."
)


def workspace_from(args: argparse.Namespace) -> Workspace:
    """The default file locations, with the ones given on the command line instead."""
    base = Workspace()
    return Workspace(
        var_dir=args.werkmap or base.var_dir,
        staff_nlu=args.oefenzinnen or base.staff_nlu,
        models_dir=args.modellen or base.models_dir,
        default_model=args.model or base.default_model,
        coverage_dir=args.dekking or base.coverage_dir,
        accounts_file=args.accountbestand or base.accounts_file,
        password_file=args.wachtwoordbestand or base.password_file,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Check the settings and the accounts, then serve until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m vraagbaak.console", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, help="poort (standaard VRAAGBAAK_CONSOLE_PORT of 8090)")
    parser.add_argument("--werkmap", type=Path, help="map voor het auditlog en de status (standaard var/)")
    parser.add_argument(
        "--oefenzinnen",
        type=Path,
        help="bestand voor toegevoegde zinnen (standaard data/nlu/medewerkers.yml)",
    )
    parser.add_argument("--modellen", type=Path, help="map voor nieuwe modellen (standaard models/)")
    parser.add_argument("--model", type=Path, help="het model dat de bot bij de start gebruikt")
    parser.add_argument(
        "--dekking", type=Path, help="map van het dekkingsrapport (standaard reports/coverage)"
    )
    parser.add_argument("--accountbestand", type=Path, help="standaard .run/console-accounts")
    parser.add_argument(
        "--wachtwoordbestand",
        type=Path,
        help="het oude gedeelde wachtwoord; wordt het account 'medewerker' (standaard .run/console-password)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s console: %(message)s")
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"De console start niet: {error}", file=sys.stderr)
        return 2
    # Read once; child processes (training, coverage) must never inherit the bot's API token.
    os.environ.pop(CONSOLE_RASA_TOKEN_ENV, None)
    workspace = workspace_from(args)
    migrate(workspace.password_file, workspace.accounts_file)
    if not read_accounts(workspace.accounts_file):
        print(NO_ACCOUNT, file=sys.stderr)
        return 2
    from vraagbaak.adapters.rasa_patches.installer import CONSOLE, UnsupportedVersion, install
    from vraagbaak.console.app import create_app
    from vraagbaak.console.state import Console
    from vraagbaak.reports import shared as reports

    reports.quiet_process()  # library warnings (matplotlib for the insights plots) say nothing to staff
    try:
        install(
            settings, CONSOLE
        )  # a malformed request gets the console's Dutch 400, not a dropped connection
    except UnsupportedVersion as error:
        print(f"De console start niet: {error}", file=sys.stderr)
        return 2
    port = args.port or settings.console_port
    app = create_app(Console.create(settings, workspace))
    print(
        f"Console voor medewerkers: http://{settings.console_host}:{port}{settings.console_base_path}/  "
        f"(bot: {settings.console_rasa_url}{'' if settings.console_rasa_token else ', zonder toegang tot de API'})",
        flush=True,
    )
    app.run(host=settings.console_host, port=port, access_log=False, workers=1, debug=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
