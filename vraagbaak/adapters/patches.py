"""Every start-up patch the served Rasa gets, in one place: the launcher's Rasa and the benchmark's parser."""
from __future__ import annotations

from vraagbaak.core.settings import Settings


def install_served_rasa(settings: Settings | None = None) -> None:
    """Patch Rasa in this process as `make run` serves it; each patch is idempotent."""
    from vraagbaak.adapters.action_call import install_lean_action_calls
    from vraagbaak.adapters.action_failure import install_action_failure_reply
    from vraagbaak.adapters.api_secrets import install_api_secrets
    from vraagbaak.adapters.channels.last_list import install_options_snapshot
    from vraagbaak.adapters.channels.origins import install_origin_record
    from vraagbaak.adapters.domain_empty import install_domain_empty_once
    from vraagbaak.adapters.event_types import install_event_type_lookup
    from vraagbaak.adapters.graph_runner import install_ordered_graph_runner
    from vraagbaak.adapters.http_errors import install_dutch_error_pages, install_request_checks
    from vraagbaak.adapters.log_privacy import install_identifier_scope
    from vraagbaak.adapters.nlu.inference import install_direct_inference
    from vraagbaak.adapters.nlu.sparse_join import install_direct_sparse_join
    from vraagbaak.adapters.nlu.training_input import install_training_input_without_autotune
    from vraagbaak.adapters.rules import install_short_rule_lookup
    from vraagbaak.adapters.turns import install_turn_gate

    settings = settings or Settings.from_env()
    # Action server down or slow: the user gets the Dutch "technisch probleem" reply, never silence.
    install_action_failure_reply(float(settings.action_timeout))
    # Rasa takes its API token and JWT secret only from its command line, which every local user can read.
    install_api_secrets(settings.rasa_token, settings.jwt_secret if settings.production else "")
    # A trimmed tracker over a kept-alive connection: the action call costs the same at every turn.
    install_lean_action_calls()
    # Reading a stored conversation back looks up each event's class; Rasa walks every class each time.
    install_event_type_lookup()
    # Each reply runs the prediction graph three times; a plan made once beats Dask's scheduling each time.
    install_ordered_graph_runner()
    # DIET's traced graph called with tensors: no signature matching and conversion per message.
    install_direct_inference()
    # The rules are one or two states long; Rasa matched them against every stored state, twice a message.
    install_short_rule_lookup()
    # Rasa rebuilt the whole domain to see whether it is empty, for every message.
    install_domain_empty_once()
    # Featurizers' sparse counts joined by shifting columns, not through scipy's general block code.
    install_direct_sparse_join()
    # A few messages at once per process, whatever their channel; the rest wait in arrival order. A conversation
    # holds at most one of those turns: Rasa took its lock inside the turn, so a burst from one visitor filled
    # them all while it polled that lock; its messages now wait outside, in a short line of their own.
    install_turn_gate()
    # A platform's reply is sent after the turn, and may not arrive: the options slot as it was before the turn
    # is noted when the message is logged, so an undelivered list never becomes the one a typed number means.
    install_options_snapshot()
    # The socket.io channel admits only the websites Rasa's --cors lists; Rasa hands that list to CORS alone.
    install_origin_record()
    # Rasa names the conversation in log lines; while a message is handled (its wait for a turn included),
    # its ids are known and hidden. Installed after the turn gate, so that it wraps it.
    install_identifier_scope()
    # Sanic drops a request whose target is not UTF-8 and answers other malformed ones with a 500 or a
    # traceback; every one now gets a 400 with a Dutch text, and every other error page is Dutch too.
    install_request_checks()
    install_dutch_error_pages()
    # Training: without tf.data's autotuner, `rasa train` no longer idles up to a minute after DIET's last epoch.
    install_training_input_without_autotune()
