"""The profile summary: waiting is not counted, each sample goes to the right part, ms per message add up."""
from __future__ import annotations

from pathlib import Path

from vraagbaak.bench.profile_servers import part_of, summarise

SERVE = "main (x.py:1);serve_single (sanic/server/runners.py:206);serve (sanic/server/runners.py:155)"


def test_waiting_is_not_counted_and_work_goes_to_its_part(tmp_path: Path) -> None:
    assert part_of(SERVE) is None  # uvloop waiting for a request
    assert part_of("run (threading.py:953);_run (vraagbaak/insights.py:305)") is None  # writer waiting
    assert part_of(SERVE + ";validate (jsonschema/validators.py:1117)") == "action call (Rasa side)"
    assert part_of(SERVE + ";_retrieve (rasa/core/tracker_store.py:424)") == "tracker store (save/load)"
    assert part_of(SERVE + ";run (vraagbaak/adapters/nlu/input_guard.py:3)") == "NLU parse (model)"
    raw = tmp_path / "raw.txt"
    raw.write_text(
        f"{SERVE} 900\n{SERVE};predict (rasa/core/policies/rule_policy.py:1) 50\n"
        f"{SERVE};encode (json/encoder.py:199) 25\n",
        encoding="utf-8",
    )
    # 250 samples a second over 10 messages: 50 samples are 20 ms per message.
    assert summarise(raw, 250, 10) == {"dialogue policy (rules)": 20.0, "HTTP, JSON and event loop": 10.0}
