"""The domain never imports Textual (STYLE.md, rule 1)."""

import subprocess
import sys


def test_core_and_the_cli_commands_do_not_import_textual() -> None:
    code = (
        "import sys, pkgutil, importlib, oncall_tui.core as core, oncall_tui.sim.scenario, oncall_tui.cli\n"
        "for m in pkgutil.walk_packages(core.__path__, 'oncall_tui.core.'): importlib.import_module(m.name)\n"
        "print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"
