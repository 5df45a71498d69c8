"""One way to install, uninstall and re-install a patch: a `Patch` record and the registry of what is in place.

A patch names the attributes it replaces and the objects it puts there; the registry keeps the object each one
replaced, so that installing twice is installing once and uninstalling puts back the very object that was there.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Sequence, Tuple

from vraagbaak.core.settings import Settings

_MISSING = object()


@dataclass(frozen=True)
class Replacement:
    """`owner.attribute = value`: a class or module attribute a patch replaces, and what it puts there."""

    owner: Any
    attribute: str
    value: Any


@dataclass(frozen=True)
class Patch:
    """A patch: its name, why it exists, the test that proves it equal to Rasa, and what it replaces.

    `replacements` is called once, at install, so a wrapper wraps what is there at that moment.
    """

    name: str
    why: str
    proof: str
    replacements: Callable[[Settings], Sequence[Replacement]]

    def install(self, settings: Settings | None = None) -> None:
        """Put the patch in place in this process; a second install changes nothing."""
        REGISTRY.install(self, settings)

    def uninstall(self) -> None:
        """Put back the objects the patch replaced; nothing when it is not installed."""
        REGISTRY.uninstall(self)

    @property
    def installed(self) -> bool:
        """Whether every replacement of this patch is in place now."""
        return REGISTRY.in_place(self.name)


# (owner, attribute, the object that was there or _MISSING, the object the patch put there)
_Swap = Tuple[Any, str, Any, Any]


def _own(owner: Any, attribute: str) -> Any:
    """The object stored on the owner itself (a staticmethod stays a staticmethod; inherited is _MISSING)."""
    return vars(owner).get(attribute, _MISSING)


class Registry:
    """The patches installed in this process, in the order they were installed."""

    def __init__(self) -> None:
        self._swaps: Dict[str, List[_Swap]] = {}

    def install(self, patch: Patch, settings: Settings | None = None) -> None:
        """Install the patch unless the registry has it already."""
        if patch.name in self._swaps:
            return
        swaps: List[_Swap] = []
        for item in patch.replacements(settings or Settings.from_env()):
            swaps.append((item.owner, item.attribute, _own(item.owner, item.attribute), item.value))
        for owner, attribute, _, value in swaps:
            setattr(owner, attribute, value)
        self._swaps[patch.name] = swaps

    def uninstall(self, patch: Patch) -> None:
        """Put back what the patch replaced; refused while a later patch still wraps one of its objects."""
        swaps = self._swaps.get(patch.name)
        if swaps is None:
            return
        for owner, attribute, _, value in swaps:
            if _own(owner, attribute) is not value:
                raise RuntimeError(f"{patch.name}: {attribute} is since replaced again; uninstall that first")
        for owner, attribute, original, _ in reversed(swaps):
            if original is _MISSING:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, original)
        del self._swaps[patch.name]

    def installed(self) -> Tuple[str, ...]:
        """The names of the installed patches, in install order."""
        return tuple(self._swaps)

    def in_place(self, name: str) -> bool:
        """Whether the named patch is installed and each of its objects is still in use.

        In use: where the patch put it, or wrapped by patches installed after it, each over the one before.
        """
        if name not in self._swaps:
            return False
        later = list(self._swaps)[list(self._swaps).index(name) + 1 :]
        for owner, attribute, _, value in self._swaps[name]:
            for other in later:
                for o, a, original, wrapper in self._swaps[other]:
                    if o is owner and a == attribute:
                        if original is not value:
                            return False
                        value = wrapper
            if _own(owner, attribute) is not value:
                return False
        return True


REGISTRY = Registry()
