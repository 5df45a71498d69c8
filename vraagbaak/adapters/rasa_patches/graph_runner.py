"""Runs Rasa's prediction graph in a fixed order worked out once per target set, instead of through Dask.

Why: a reply runs the graph three times (understanding, then two action predictions). Rasa's Dask runner prunes
the schema and schedules the same ten-odd nodes from scratch on every run; this runner does that once and then
calls the very same node objects in the same dependency order (docs/performance.md).
"""
from __future__ import annotations

from typing import Any, Dict, List, Sequence, Tuple

import rasa.core.processor
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner

from vraagbaak.adapters.rasa_patches.patch import Patch, Replacement

# (node name, names of the nodes or inputs it needs, in the order its call takes them)
Step = Tuple[str, Tuple[str, ...]]


def run_order(schema: GraphSchema, targets: Sequence[str]) -> List[Step]:
    """The nodes the targets need, each after everything it needs (depth first, as the schema lists needs)."""
    order: List[Step] = []
    placed: set = set()

    def place(name: str, path: Tuple[str, ...]) -> None:
        if name in placed or name not in schema.nodes:
            return  # an input, or a node already placed
        if name in path:
            raise GraphRunError(f"De graaf bevat een kring bij '{name}'.")
        needs = tuple(schema.nodes[name].needs.values())
        for need in needs:
            place(need, path + (name,))
        placed.add(name)
        order.append((name, needs))

    for target in targets:
        place(target, ())
    return order


class OrderedGraphRunner(DaskGraphRunner):
    """Rasa's Dask runner with the same nodes and results, run as a plan made once per target set."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Instantiate the nodes as Rasa does; plans are made on first use."""
        super().__init__(*args, **kwargs)
        self._plans: Dict[Tuple[str, ...], List[Step]] = {}

    def run(
        self,
        inputs: Dict[str, Any] | None = None,
        targets: List[str] | None = None,
    ) -> Dict[str, Any]:
        """Each node's (name, output), as DaskGraphRunner.run returns them for these targets."""
        run_targets = tuple(targets if targets else self._graph_schema.target_names)
        plan = self._plans.get(run_targets)
        if plan is None:
            plan = self._plans[run_targets] = run_order(self._graph_schema, run_targets)
        results: Dict[str, Any] = {}
        for name, value in (inputs or {}).items():
            if name in self._graph_schema.nodes:
                raise GraphRunError(f"Invoer '{name}' heeft dezelfde naam als een knoop van de graaf.")
            results[name] = (name, value)
        try:
            for name, needs in plan:
                missing = [need for need in needs if need not in results]
                if missing:
                    raise GraphRunError(f"Knoop '{name}' mist invoer {missing}.")
                results[name] = self._instantiated_nodes[name](*(results[need] for need in needs))
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e
        return dict(results[target] for target in run_targets)


PATCH = Patch(
    name="graph_runner",
    why="Each reply runs the prediction graph three times; a plan made once beats Dask's scheduling each time.",
    proof="tests/adapters/test_graph_runner.py",
    replacements=lambda settings: [Replacement(rasa.core.processor, "DaskGraphRunner", OrderedGraphRunner)],
)
