"""``benchframe plugins --json``: every loaded plugin with its distribution, version, hooks and registrations."""

from __future__ import annotations

import json

from benchframe import __version__
from benchframe.cli import main


def test_plugins_json_lists_builtins_with_their_distribution(capsys):
    assert main(["plugins", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    by_name = {p["name"]: p for p in doc["plugins"]}
    for name in ("single", "list", "array", "twopass", "llist", "locallock"):
        assert by_name[name]["distribution"] == "benchframe"
        assert by_name[name]["version"] == __version__
        assert by_name[name]["hooks"] == ["benchframe_register_designs"]
        assert by_name[name]["registered"] == {"designs": [name]}
    assert "page_bench04" in by_name["benchframe.workloads"]["registered"]["workloads"]
