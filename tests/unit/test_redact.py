"""Secrets inside ordinary files are masked before they are chunked, stored or embedded: none of
the planted ones reaches the SQLite file, the chunks' text (the encoder's input) or a search
result, line numbers stay exact, and ordinary code is left alone. The fakes are assembled from
pieces so that no secret scanner flags this repository."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from codekin.embeddings.fake import FakeEncoder
from codekin.index.layout import live_dir
from codekin.redact import Redactor, entropy
from codekin.settings import Settings, merge
from codekin.workspace import Workspace
from tests.conftest import write_tree
from tests.fake_cli import fake_cli

SECRETS = {
    "aws_access_key": "AKIA" + "QYLPMN5HHHFPZAM2",
    "github_token": "ghp_" + "R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3sXy",
    "github_pat": "github_pat_" + "11ABCDEFG0" + "aBcDeFgHiJkLmNoPqRsTuV",
    "slack_token": "xoxb-" + "1234567890-0987654321-" + "AbCdEfGhIjKlMnOpQrStUv",
    "openai_key": "sk-" + "proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
    "google_api_key": "AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
    "jwt": "eyJ"
    + "hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    + ".eyJ"
    + "zdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    "private_key_body": "MIIEowIBAAKCAQEA7bqZ" + "x9Lk2PqV8mWn3RtYc1Hs",
    "password": "Tr0ub4dor" + "-and-3",
    "client_secret": "cl1ent" + "-S3cret-Val",
    "env_token": "envT0ken" + "Value9912",
    "high_entropy": "Zk9vQmFy" + "QmF6UXV4MTIzNDU2Nzg5MHh5eg",
    "extra": "ACME-" + "7f3k9q2m8z",
}
PRIVATE_KEY = (
    "-----BEGIN RSA "
    + "PRIVATE KEY-----\n"
    + SECRETS["private_key_body"][:20]
    + "\n"
    + SECRETS["private_key_body"][20:]
    + "\n-----END RSA "
    + "PRIVATE KEY-----"
)


def planted_source() -> str:
    s = SECRETS
    return (
        "import os\n"
        f'AWS_KEY_ID = "{s["aws_access_key"]}"\n'
        f"GITHUB = '{s['github_token']}'\n"
        f'PAT = "{s["github_pat"]}"\n'
        f'SLACK = "{s["slack_token"]}"\n'
        f'OPENAI = "{s["openai_key"]}"\n'
        f'MAPS = "{s["google_api_key"]}"\n'
        f'SESSION = "{s["jwt"]}"\n'
        f'SIGNING_KEY = """{PRIVATE_KEY}"""\n'
        f'db_password = "{s["password"]}"\n'
        f'settings = {{"client_secret": "{s["client_secret"]}"}}\n'
        f'blob = "{s["high_entropy"]}"\n'
        f'vendor = "{s["extra"]}"\n'
        "\n\n"
        "def after_the_secrets(order):\n"
        "    return order.total * 2\n"
    )


# ordinary code that must come through untouched
ORDINARY = (
    'digest = "d41d8cd98f00b204e9800998ecf8427e"\n'
    'commit = "9fceb02d0ae598e95dc970b74767f19372d61af8"\n'
    'request_id = "123e4567-e89b-12d3-a456-426614174000"\n'
    '"integrity": "sha512-Q2h1bmt5QmFzZTY0RGF0YUZvclRlc3Rpbmc9PQ0KAAAA=="\n'
    'alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"\n'
    'png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJ'
    'RU5ErkJggg=="\n'
    "password = get_password()\n"
    "api_key = settings.API_KEY\n"
    'token_type = "bearer"\n'
    '"jsonwebtoken": "^9.0.0"\n'
    'password_env = "DB_PASSWORD"\n'
    'secret = ""\n'
    'pad_token = "[PAD]"\n'
    'credentials: "same-origin"\n'
    'label = "Enter your password"\n'
    'ClassName = "VeryLongButOrdinaryIdentifierName"\n'
)


def test_each_kind_is_masked_in_place_keeping_length_and_lines() -> None:
    data = planted_source().encode()
    out = Redactor([r"vendor = \"(ACME-[0-9a-z]+)\""]).redact(data, "app/settings.py")
    assert len(out.data) == len(data)
    assert out.data.count(b"\n") == data.count(b"\n")
    assert [len(line) for line in out.data.split(b"\n")] == [len(line) for line in data.split(b"\n")]
    text = out.data.decode()
    for name, secret in SECRETS.items():
        assert secret not in text, name
        assert secret[-8:] not in text, name  # not even its tail
    for kind in ("aws_access_key", "github_token", "slack_token", "openai_key", "google_api_key", "jwt"):
        assert out.found[kind] >= 1, kind
    assert out.found["github_token"] == 2 and out.found["private_key"] == 1
    assert out.found["assignment"] == 2 and out.found["high_entropy"] == 1 and out.found["extra_1"] == 1
    # the provider prefix and the key block's frame stay: they say what was there
    assert 'AWS_KEY_ID = "AKIA****************"' in text and "-----BEGIN RSA PRIVATE KEY-----\n***" in text
    # every byte that changed became "*"
    assert all(b == a or b == ord("*") for a, b in zip(data, out.data, strict=True))


def test_env_style_assignments_are_masked_in_config_files_only() -> None:
    env = f"API_TOKEN={SECRETS['env_token']}\nDEBUG=true\nexport DB_PASSWORD={SECRETS['password']}\n"
    masked = Redactor().redact(env.encode(), ".env").data.decode()
    assert SECRETS["env_token"] not in masked and SECRETS["password"] not in masked and "DEBUG=true" in masked
    code = "const token = lookup(user)\nprivateKey: options.key,\n"
    assert Redactor().redact(code.encode(), "src/a.js").data.decode() == code


def test_ordinary_code_is_left_alone() -> None:
    out = Redactor().redact(ORDINARY.encode(), "src/app.py")
    assert out.data.decode() == ORDINARY, out.found


def test_disabled_and_bad_extra_patterns() -> None:
    data = planted_source().encode()
    assert Redactor(enabled=False).redact(data).data == data
    bad = Redactor(["(unclosed", r"ACME-\w+"])
    assert len(bad.problems) == 1 and "(unclosed" in bad.problems[0]
    assert SECRETS["extra"] not in bad.redact(data).data.decode()
    assert Redactor().fingerprint != Redactor(enabled=False).fingerprint != Redactor(["x"]).fingerprint


def test_entropy_is_shannon_bits_per_character() -> None:
    assert entropy(b"aaaa") == 0.0
    assert entropy(b"abcd") == pytest.approx(2.0)
    assert entropy(b"") == 0.0


def test_settings_accept_a_redact_table() -> None:
    settings, problems = merge(Settings(), {"redact": {"enabled": False, "extra_patterns": ["x(y)"]}}, "t")
    assert not problems and settings.redact_enabled is False and settings.redact_extra_patterns == ["x(y)"]
    settings, problems = merge(Settings(), {"redact": {"extraPatterns": "oops"}}, "t")
    assert problems and settings.redact_extra_patterns == []


def all_index_bytes(index_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(index_dir.rglob("*")) if p.is_file())


def assert_no_secret(ws: Workspace, secrets: dict[str, str]) -> None:
    raw = all_index_bytes(ws.index_dir)
    db = sqlite3.connect(live_dir(ws.index_dir) / "index.sqlite")
    texts = "\n".join(t for (t,) in db.execute("SELECT text FROM chunks"))
    fts = "\n".join(str(r) for r in db.execute("SELECT * FROM chunks_fts"))
    db.close()
    hits = [
        h
        for q in ("github token", "password", "signing key", "session", "secret")
        for h in ws.search(q, k=50)
    ]
    found = "\n".join(h.text for h in hits)
    for name, secret in secrets.items():
        for where, blob in (("index files", raw), ("chunk text", texts.encode()), ("fts", fts.encode())):
            assert secret.encode() not in blob, f"{name} in {where}"
        assert secret not in found, f"{name} in a search result"


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "repo",
        {
            "app/settings.py": planted_source(),
            "deploy/settings.ini": f"[api]\nAPI_TOKEN={SECRETS['env_token']}\n",
            "app/ordinary.py": ORDINARY,
        },
    )


def test_no_planted_secret_reaches_the_index_and_lines_stay_right(planted: Path, tmp_path: Path) -> None:
    settings = Settings(index_dir=str(tmp_path / "idx"), redact_extra_patterns=[r"ACME-\w+"])
    with Workspace(planted, settings, encoder=FakeEncoder()) as ws:
        ws.index()
        assert_no_secret(ws, SECRETS)
        hit = ws.search("after_the_secrets", k=1)[0]
        lines = planted_source().splitlines()
        assert hit.symbol == "after_the_secrets" and lines[hit.start_line - 1].startswith(
            "def after_the_secrets"
        )
        assert hit.end_line == len(lines)
        st = ws.status()
        assert st.redacted_files == 2 and st.redactions == sum(st.redaction_kinds.values()) >= 13
        assert st.redaction_kinds["extra_1"] == 1 and st.redaction_kinds["private_key"] == 1
        # ordinary code is stored as it is
        assert ws.search("request_id", k=1)[0].text.count("123e4567-e89b-12d3-a456-426614174000") == 1
        (planted / "deploy" / "settings.ini").unlink()
        ws.index()
        assert ws.status().redacted_files == 1


def test_turning_redaction_on_purges_what_was_stored_before(planted: Path, tmp_path: Path) -> None:
    idx = str(tmp_path / "idx")
    with Workspace(planted, Settings(index_dir=idx, redact_enabled=False), encoder=FakeEncoder()) as ws:
        ws.index()
        assert SECRETS["github_token"].encode() in all_index_bytes(ws.index_dir)
        assert ws.status().redactions == 0
    encoder = FakeEncoder()
    with Workspace(planted, Settings(index_dir=idx), encoder=encoder) as ws:
        stats = ws.index()
        assert stats.files_indexed == 3  # read again under the new rules
        secrets = {k: v for k, v in SECRETS.items() if k != "extra"}
        assert_no_secret(ws, secrets)
        assert ws.status().redactions >= 12
        again = ws.index()
        assert again.files_indexed == 0  # once


def test_status_shows_the_count(planted: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return fake_cli(planted, *args)

    assert cli("index").returncode == 0
    human = cli("status")
    assert human.returncode == 0 and "redacted:     12 secrets masked in 2 files" in human.stdout, (
        human.stdout
    )
    data = json.loads(cli("status", "--json").stdout)
    assert data["redactions"] == 12 and data["redacted_files"] == 2 and data["redaction_kinds"]["jwt"] == 1
