"""Code structure: what other modules use is public, and the UI talks to one executor interface."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from dl_core.jobs import Executor, LocalExecutor
from dl_core.ray_jobs import RayExecutor

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("dl_core", "ui", "app_pages", "tests", "bench")


def _sources() -> list[Path]:
    files = [p for name in PACKAGES for p in (ROOT / name).rglob("*.py")]
    return [*files, ROOT / "streamlit_app.py"]


def _is_project(module: str) -> bool:
    return module.split(".")[0] in PACKAGES


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_uses(path: Path) -> list[str]:
    """``from project.module import _name`` and ``project_module._name`` in one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found, modules = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and _is_project(node.module):
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{node.lineno}: from {node.module} import {alias.name}")
                else:  # may be a module (from dl_core import tracking)
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            modules.update(alias.asname or alias.name.split(".")[0] for alias in node.names
                           if _is_project(alias.name))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in modules:
                found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_uses_another_modules_private_names():
    offences = {str(p.relative_to(ROOT)): uses for p in _sources() if (uses := _private_uses(p))}
    assert offences == {}


def test_the_private_name_check_catches_both_forms(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from dl_core.training import _secret\nfrom dl_core import tracking\n"
                     "tracking._client()\nimport dl_core.data.samples as s\ns._BUILDERS\n")
    assert sorted(use.split(": ")[1] for use in _private_uses(probe)) == [
        "from dl_core.training import _secret", "s._BUILDERS", "tracking._client"]


def _interface() -> set[str]:
    return {name for name in dir(Executor) if not name.startswith("_")}


@pytest.mark.parametrize("cls", [LocalExecutor, RayExecutor], ids=["local", "ray"])
def test_each_executor_implements_the_whole_executor_interface(cls):
    assert issubclass(cls, Executor)
    assert not cls.__abstractmethods__  # it can be instantiated
    assert {"submit", "submit_sweep", "progress", "stop", "jobs", "predict", "warm_up",
            "shutdown"} <= Executor.__abstractmethods__
    for name in _interface():
        spec = inspect.getattr_static(Executor, name)
        if callable(spec):
            assert inspect.signature(getattr(cls, name)) == inspect.signature(spec), name


def _executor_attributes_used_by_the_ui() -> dict[str, set[str]]:
    """Attributes read on ``executor()`` or on a name assigned from it, per UI file."""
    used: dict[str, set[str]] = {}
    for path in [*(ROOT / "ui").glob("*.py"), *(ROOT / "app_pages").glob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))

        def is_executor_call(node: ast.AST) -> bool:
            return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "executor")

        names = {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                 and is_executor_call(node.value)
                 for target in node.targets if isinstance(target, ast.Name)}
        attrs = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                 and (is_executor_call(node.value)
                      or isinstance(node.value, ast.Name) and node.value.id in names)}
        if attrs:
            used[path.name] = attrs
    return used


def test_the_ui_uses_nothing_beyond_the_executor_interface():
    used = _executor_attributes_used_by_the_ui()
    assert {"progress", "submit", "stop"} <= set().union(*used.values())  # the scan sees them
    beyond = {page: attrs - _interface() for page, attrs in used.items() if attrs - _interface()}
    assert beyond == {}
