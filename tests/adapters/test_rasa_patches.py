"""The Rasa patches: every one in the served processes, each idempotent and undone exactly, other versions refused."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator, List

import pytest

from vraagbaak.adapters.rasa_patches import installer, patch, versions
from vraagbaak.adapters.rasa_patches.patch import Patch, Registry, Replacement
from vraagbaak.core.paths import PROJECT_DIR
from vraagbaak.core.settings import DEFAULT_MODEL, Settings

ALL_PATCHES = sorted({name for names in installer.PATCH_MODULES.values() for name in names})

# A process started as the launcher starts the served Rasa (or the action server), up to the point where Rasa's
# (or rasa-sdk's) own main would run; it prints the patches in place, and after one is undone behind the
# registry's back, what the registry then says (which shows the check can fail).
SERVED = """
import json, sys
{fake_version}
import {main_module} as entry
entry.main = lambda: print("GESTART", flush=True)
from vraagbaak.ops import launcher
from vraagbaak.adapters.rasa_patches import installer, patch
launcher.main([{command!r}, "--port", "1"])
print("PATCHES", json.dumps(installer.installed()))
print("RASA", json.dumps("rasa" in sys.modules))
swaps = patch.REGISTRY._swaps[installer.PATCH_MODULES[{process!r}][-1]]
owner, attribute, original, _ = swaps[0]
setattr(owner, attribute, original)
print("NA", json.dumps(installer.installed()))
"""

FAKE_VERSION = """
from importlib import metadata
real = metadata.version
metadata.version = lambda name: {fake!r} if name == {package!r} else real(name)
"""


def served(command: str, fake: str = "", package: str = "") -> subprocess.CompletedProcess:
    main_module, process = {
        "rasa": ("rasa.__main__", installer.RASA),
        "actions": ("rasa_sdk.__main__", installer.ACTION_SERVER),
    }[command]
    code = SERVED.format(
        fake_version=FAKE_VERSION.format(fake=fake, package=package) if fake else "",
        main_module=main_module,
        command=command,
        process=process,
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300
    )


def printed(result: subprocess.CompletedProcess, label: str) -> Any:
    lines = [line for line in result.stdout.splitlines() if line.startswith(label + " ")]
    assert lines, result.stdout[-2000:] + result.stderr[-2000:]
    return json.loads(lines[-1].split(" ", 1)[1])


def test_the_served_rasa_has_every_patch_in_place() -> None:
    result = served("rasa")
    assert result.returncode == 0, result.stderr[-2000:]
    assert printed(result, "PATCHES") == list(installer.PATCH_MODULES[installer.RASA])
    # One patch put back behind the registry's back: the check sees it gone.
    assert printed(result, "NA") == list(installer.PATCH_MODULES[installer.RASA][:-1])


def test_the_action_server_has_its_patches_without_loading_rasa() -> None:
    result = served("actions")
    assert result.returncode == 0, result.stderr[-2000:]
    assert printed(result, "PATCHES") == ["request_checks", "action_server"]
    assert printed(result, "RASA") is False
    assert printed(result, "NA") == ["request_checks"]


@pytest.mark.parametrize(
    "command, package", [("rasa", "rasa"), ("rasa", "sanic"), ("actions", "rasa-sdk"), ("actions", "sanic")]
)
def test_another_version_refuses_to_start_with_a_clear_message(command: str, package: str) -> None:
    result = served(command, fake="3.7.0", package=package)
    assert result.returncode == 2
    assert "GESTART" not in result.stdout  # Rasa's (rasa-sdk's) own main never ran
    assert f"Vraagbaak start niet: {package} 3.7.0 is geïnstalleerd" in result.stderr
    assert f"getest voor {package} {versions.TESTED[package]}" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_tested_versions_are_the_installed_ones() -> None:
    versions.check_versions(versions.TESTED)  # raises otherwise


def test_the_evaluation_parser_refuses_another_rasa_too(monkeypatch: pytest.MonkeyPatch) -> None:
    from vraagbaak.evaluation.offline import ModelParser

    monkeypatch.setattr(versions.metadata, "version", lambda name: "3.5.0")
    with pytest.raises(versions.UnsupportedVersion, match="getest voor rasa 3.6.21"):
        ModelParser(DEFAULT_MODEL, served=True)


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    """A registry of this test alone; what it installs is undone afterwards, whatever the test left."""
    registry = Registry()
    monkeypatch.setattr(patch, "REGISTRY", registry)
    yield registry
    for name in reversed(registry.installed()):
        for owner, attribute, original, _ in reversed(registry._swaps[name]):
            if original is patch._MISSING:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, original)


def own_objects(registry: Registry, name: str) -> List[Any]:
    return [patch._own(owner, attribute) for owner, attribute, _, _ in registry._swaps[name]]


@pytest.mark.parametrize("name", ALL_PATCHES)
def test_each_patch_installs_once_and_uninstalls_to_the_very_original(
    fresh_registry: Registry, name: str
) -> None:
    module = pytest.importorskip(f"vraagbaak.adapters.rasa_patches.{name}")
    the_patch: Patch = module.PATCH
    assert the_patch.name == name and the_patch.why and the_patch.proof
    the_patch.install(Settings())
    swaps = list(fresh_registry._swaps[name])
    originals = [original for _, _, original, _ in swaps]
    installed = own_objects(fresh_registry, name)
    assert swaps and all(new is not old for new, old in zip(installed, originals, strict=True))
    assert the_patch.installed
    the_patch.install(Settings())  # twice is once: nothing wraps the patch's own objects
    assert own_objects(fresh_registry, name) == installed and fresh_registry._swaps[name] == swaps
    the_patch.uninstall()
    assert not the_patch.installed
    for (owner, attribute, original, _), before in zip(swaps, originals, strict=True):
        assert patch._own(owner, attribute) is before is original
    the_patch.uninstall()  # uninstalling what is not installed changes nothing
    assert [patch._own(o, a) for o, a, _, _ in swaps] == originals


def test_each_patch_names_a_proof_that_exists_and_the_architecture_doc_lists_it() -> None:
    doc = (PROJECT_DIR / "docs" / "architecture.md").read_text(encoding="utf-8")
    for name in ALL_PATCHES:
        the_patch = installer.patches(installer.RASA if name != "action_server" else installer.ACTION_SERVER)
        found = {p.name: p for p in the_patch}[name]
        for proof in found.proof.replace(" and ", ",").split(","):
            path = proof.strip().split("::")[0].split(" ")[0]
            assert (PROJECT_DIR / path).exists(), (name, path)
        assert f"`{name}`" in doc, name


class Box:
    """A stand-in for a Rasa class."""

    def greet(self) -> str:
        return "rasa"


def wrapper_patch(name: str, word: str) -> Patch:
    def replacements(settings: Settings) -> List[Replacement]:
        inner = Box.greet

        def greet(self: Box) -> str:
            return word + "+" + inner(self)

        return [Replacement(Box, "greet", greet)]

    return Patch(name, "test", "this file", replacements)


def test_a_wrapped_patch_is_in_place_and_cannot_be_uninstalled_under_its_wrapper(
    fresh_registry: Registry,
) -> None:
    rasa_own = vars(Box)["greet"]
    inner, outer = wrapper_patch("binnen", "a"), wrapper_patch("buiten", "b")
    inner.install()
    outer.install()
    outer.install()
    assert Box().greet() == "b+a+rasa"  # each wrapper once
    assert inner.installed and outer.installed
    with pytest.raises(RuntimeError, match="uninstall that first"):
        inner.uninstall()
    assert Box().greet() == "b+a+rasa"  # the refused uninstall changed nothing
    outer.uninstall()
    inner.uninstall()
    assert vars(Box)["greet"] is rasa_own


def test_a_patch_replaced_behind_the_registrys_back_is_no_longer_in_place(fresh_registry: Registry) -> None:
    inner, outer = wrapper_patch("binnen", "a"), wrapper_patch("buiten", "b")
    inner.install()
    outer.install()
    Box.greet = lambda self: "iemand anders"  # type: ignore[method-assign]
    assert not outer.installed and not inner.installed


def test_an_inherited_attribute_is_inherited_again_after_uninstall(fresh_registry: Registry) -> None:
    class Child(Box):
        pass

    child_patch = Patch(
        "kind", "test", "this file", lambda s: [Replacement(Child, "greet", lambda self: "kind")]
    )
    child_patch.install()
    assert Child().greet() == "kind"
    child_patch.uninstall()
    assert "greet" not in vars(Child) and Child().greet() == "rasa"


def test_the_installer_lists_only_modules_that_exist() -> None:
    here = Path(installer.__file__).parent
    assert all((here / f"{name}.py").exists() for name in ALL_PATCHES)


def test_the_console_gets_its_patch_through_the_installer(fresh_registry: Registry) -> None:
    installer.install(None, installer.CONSOLE)
    assert fresh_registry.installed() == ("request_checks",)


def test_the_console_refuses_another_sanic(monkeypatch: pytest.MonkeyPatch, fresh_registry: Registry) -> None:
    monkeypatch.setattr(versions.metadata, "version", lambda name: "22.0.0")
    with pytest.raises(versions.UnsupportedVersion, match="getest voor sanic"):
        installer.install(None, installer.CONSOLE)
    assert fresh_registry.installed() == (), "nothing is patched before the check"
