"""``benchframe explore``: exit status 0 for SAFE, 1 for UNSAFE, and the JSON of the findings. (Bad arguments
are in the bad-input catalogue, ``test_bad_input.py``.)"""

from __future__ import annotations

import json

from benchframe.cli import main


def test_cli_exit_codes_and_json(tmp_path, capsys):
    out = tmp_path / "x.json"
    assert main(["explore", "--design", "array", "--context", "irq", "--json", str(out)]) == 0
    assert json.loads(out.read_text())[0]["verdict"] == "SAFE"
    assert main(["explore", "--design", "llist:free=splice", "--context", "irq", "--json", str(out)]) == 1
    doc = json.loads(out.read_text())[0]
    assert doc["verdict"] == "UNSAFE" and doc["findings"][0]["steps"] == doc["steps"]
    assert main(["explore", "--design", "llist_del_first", "--context", "irq"]) == 1
    assert "UNSAFE" in capsys.readouterr().out
