"""Provenance (``benchframe.provenance``): before, an edited checkout recorded the same commit as a clean one,
a result stored its profile's name but not its content, and the profiles cited a file outside the repository."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from benchframe import provenance
from benchframe.plugins import get_registry
from benchframe.results import ResultDocument


def _fake_git(status: bytes, diff: bytes):
    def git(*args: str) -> bytes | None:
        return {"status": status, "diff": diff, "ls-files": b""}[args[0]]
    return git


def test_an_edited_checkout_is_flagged_and_two_edits_differ(monkeypatch):
    monkeypatch.setattr(provenance, "_git", _fake_git(b"", b""))
    assert provenance.checkout_state() == {"dirty": False, "diff_sha256": None}
    monkeypatch.setattr(provenance, "_git", _fake_git(b" M benchframe/mm/pcp.py\n", b"-a\n+b\n"))
    one = provenance.checkout_state()
    monkeypatch.setattr(provenance, "_git", _fake_git(b" M benchframe/mm/pcp.py\n", b"-a\n+c\n"))
    two = provenance.checkout_state()
    assert one["dirty"] and two["dirty"] and one["diff_sha256"] != two["diff_sha256"]
    monkeypatch.setattr(provenance, "_git", lambda *a: None)  # not a git checkout: unknown, not "clean"
    assert provenance.checkout_state()["dirty"] is None


def test_the_result_document_records_the_profile_content_and_the_input_digests(monkeypatch):
    monkeypatch.setattr(provenance, "_git", _fake_git(b" M x\n", b"+x\n"))
    costs = get_registry(()).cost_model("e5-1650v4")
    doc = ResultDocument.made([], costs.name, [], "x", "5.13", {}, profile_source=costs.source)
    saved = ResultDocument.parse(json.loads(doc.dumps()), "r.json")
    p = saved.provenance
    text = Path(costs.source).read_text()
    assert p["profile"]["content"] == text and p["profile"]["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert set(p["measurements"]) >= {"published.csv", "pagealloc-2017.csv"}
    assert all(re.fullmatch(r"[0-9a-f]{64}", v) for v in p["measurements"].values())
    assert p["dirty"] is True and "with edits (diff sha256" in saved.source("r.json")


@pytest.mark.parametrize("name", ["e5-1650v4", "i7-4790k", "mel-2017"])
def test_every_source_a_profile_cites_is_in_the_repository(name):
    text = Path(get_registry(()).cost_model(name).source).read_text()
    assert "../shared" not in text and "docs/references.md" in text
    # the repository's copy: an installed package (CI's lowest-versions job) has no docs/ beside it
    references = (Path(__file__).resolve().parents[1] / "docs" / "references.md").read_text()
    for section in sorted(set(re.findall(r"kf (§\d+(?:\.\d+)?)", text))):
        assert f"kf {section}" in references, section
