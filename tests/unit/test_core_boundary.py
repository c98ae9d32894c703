"""The domain never imports Textual (STYLE.md, rule 1)."""

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_core_and_the_cli_commands_do_not_import_textual() -> None:
    code = (
        "import sys, pkgutil, importlib, oncall_tui.core as core, oncall_tui.sim.scenario, oncall_tui.cli\n"
        "for m in pkgutil.walk_packages(core.__path__, 'oncall_tui.core.'): importlib.import_module(m.name)\n"
        "print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"


def _imports(path: Path, with_type_checking: bool) -> set[str]:
    """The oncall_tui modules a file imports (those under `if TYPE_CHECKING:` only if asked)."""
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                if with_type_checking:
                    visit(node.body)
                continue
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("oncall_tui"):
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("oncall_tui"))
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                visit(getattr(node, "body", []))

    visit(ast.parse(path.read_text()).body)
    return found


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def test_widgets_and_screens_never_import_the_app_or_the_main_screen() -> None:
    ui = ROOT / "oncall_tui" / "ui"
    above = {"oncall_tui.ui.app", "oncall_tui.ui.main_screen"}
    for path in [*ui.glob("widgets/*.py"), *ui.glob("screens/*.py")]:
        wrong = {m for m in _imports(path, with_type_checking=True) if m in above or m.endswith("_keys")}
        assert not wrong, f"{_module(path)} imports {wrong}"


def test_no_import_cycles_in_the_ui() -> None:
    paths = list((ROOT / "oncall_tui" / "ui").rglob("*.py"))
    graph = {
        _module(p): {m for m in _imports(p, with_type_checking=False) if m.startswith("oncall_tui.ui")} for p in paths
    }

    def cycle_from(start: str, seen: tuple[str, ...]) -> tuple[str, ...] | None:
        for nxt in graph.get(start, ()):
            if nxt in seen:
                return (*seen, nxt)
            found = cycle_from(nxt, (*seen, nxt))
            if found:
                return found
        return None

    for module in graph:
        assert cycle_from(module, (module,)) is None, " → ".join(cycle_from(module, (module,)) or ())
