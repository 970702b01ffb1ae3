"""`ombud consent proof ID` as a DPO runs it: a real process printing the receipt."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from consent_ledger import Ledger, visitor

from ombud import consent


def ombud(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "OMBUD_DATABASE_URL": database_url,
        "OMBUD_BASE_URL": "https://ombud.example",
    }
    return subprocess.run(
        [sys.executable, "-c", "from ombud.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


def test_proof_prints_the_receipt_with_the_text_shown(ledger: Ledger, database_url: str) -> None:
    choice = ledger.choose(visitor(), {"statistics": True, "marketing": False})
    refused = next(e for e in choice.events if e.purpose == "marketing")
    result = ombud("consent", "proof", refused.receipt_id, database_url=database_url)
    assert result.returncode == 0, result.stderr
    proof = json.loads(result.stdout)
    assert proof["consentReceiptID"] == refused.receipt_id
    assert proof["event"]["type"] == "refused"
    assert proof["notice"]["content"] == consent.banner_text(ledger.register, "sv")
    assert proof["policyUrl"].startswith("https://ombud.example/privacy/history/")


def test_proof_of_an_unknown_receipt_is_one_clear_line(ledger: Ledger, database_url: str) -> None:
    result = ombud(
        "consent", "proof", "3f2b8c1e-5a4d-4c2b-9e1f-7a6b5c4d3e2f", database_url=database_url
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert "no consent receipt" in result.stderr
    assert "Traceback" not in result.stderr
