"""Credentials inside ordinary source files are masked before anything is chunked, stored or
embedded: cloud and provider tokens, private key blocks, JWTs, ``password = "..."``-style
assignments and high-entropy strings assigned to a name.

A secret is masked byte for byte with ``*`` (a known provider prefix such as ``AKIA`` or
``ghp_`` stays, it is no secret and tells what was there). Every other byte, newlines included,
is left where it was, so the masked file has the same length and lines as the one on disk: chunk
spans, byte columns and line numbers stay exact, and a search hit points at the real place. A
run of ``*`` is no token, so BM25 never matches it; the encoder reads the rest of the line.
A fixed ``[REDACTED]`` marker would have shifted every later column of the line and outgrown
short secrets.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

VERSION = "1"  # bump when the built-in rules change: indexed files are read again
MASK = ord("*")
ENTROPY_MIN_LEN = 20
ENTROPY_MAX_LEN = 100  # longer literals are data (base64 fixtures, images), not credentials
ENTROPY_BITS = 4.2  # Shannon bits per character; random base64 of 20+ chars: 4.2-5.5

# names whose value is a credential: the name is, or ends in a part that is, one of these
# (``db_password``, ``github-token``, ``clientSecret``; not ``jsonwebtoken`` or ``token_type``)
_SECRET_WORD = (
    rb"(?:password|passwd|passphrase|pwd|secret|secret[_\-]?key|token|api[_\-]?key|apikey|"
    rb"access[_\-]?key|private[_\-]?key|client[_\-]?secret|auth[_\-]?key)"
)
_SECRET_NAME = rb"(?:[a-z0-9_.\-]*[_.\-])?" + _SECRET_WORD  # in lower-cased text: DB_PASSWORD
# high-entropy values under these names are digests, boundaries, ids or locations, not secrets
_NOT_SECRET_NAME = re.compile(
    rb"(?i)(hash|sha\d*|md5|digest|integrity|checksum|boundary|nonce|etag|cursor|uuid|guid|"
    rb"link|url|uri|href|path|file|src|dir|route|commit|rev|version|salt|algorithm|cipher|type|name|"
    rb"label|title|description|message|format|pattern|regex|locale|mime|encoding|charset)"
)
# files where ``KEY=value`` lines carry settings (env, ini, yaml, toml, shell, properties)
CONFIG_FILES = re.compile(
    r"(?:^|/)(?:\.env(?:\.[\w.-]+)?|[\w.-]+\.(?:env|ini|cfg|conf|properties|ya?ml|toml|sh|bash|zsh))$"
)
_OPERATOR = rb"""["']?\s*(?::=|=>|=|:)\s*"""
_PLACEHOLDER = re.compile(
    rb"^(?:\$\{.*\}|\{\{.*\}\}|<[^>]*>|\[[^\]]*\]|%[sd]|\*+|x+|\.+|-+|_+|(?i:none|null|nil|true|false|changeme|"
    rb"password|secret|token|example|your[_\-].*|redacted|todo|xxx.*))$"
)


@dataclass(frozen=True)
class Rule:
    """``pattern`` finds a secret; group ``secret`` (or the whole match) is masked, after
    ``keep`` leading bytes; ``accept`` may veto a match (False: not a secret); ``files``: only
    in files whose path matches."""

    name: str
    pattern: re.Pattern[bytes]
    keep: int = 0
    accept: Callable[[re.Match[bytes], bytes], bool] | None = None  # (match, the file's bytes)
    files: re.Pattern[str] | None = None
    hints: tuple[bytes, ...] = ()  # it can match only where one of these occurs
    folded_hints: tuple[bytes, ...] = ()  # the same, in the lower-cased text
    folded: bool = False  # match the lower-cased text (a lower-case pattern: much faster than (?i))

    def may_match(self, data: bytes, folded: bytes) -> bool:
        if self.hints and not any(h in data for h in self.hints):
            return False
        return not self.folded_hints or any(h in folded for h in self.folded_hints)


def entropy(value: bytes) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values()) if n else 0.0


def _mixed(value: bytes) -> bool:
    """Letters and digits both: a token, not a word or a number."""
    return bool(re.search(rb"[A-Za-z]", value) and re.search(rb"\d", value))


def _secret(m: re.Match[bytes], data: bytes) -> bytes:
    """The matched secret as the file has it (a match may be in the lower-cased text)."""
    return data[m.start("secret") : m.end("secret")]


def _sequential(value: bytes) -> bool:
    """An alphabet or a counting run (``abcdef…``, ``0123…``): half its steps go up by one."""
    steps = sum(1 for a, b in zip(value, value[1:], strict=False) if b == a + 1)
    return steps >= len(value) // 2


# base64 of a file's first bytes (PNG, JPEG, GIF, PDF, gzip, zip, WebP): an inline fixture, not a key
_FILE_MAGIC = (b"iVBORw0KGgo", b"/9j/", b"R0lGOD", b"JVBERi0", b"H4sI", b"UEsDB", b"UklGR")


def _random_looking(value: bytes) -> bool:
    """High entropy, upper and lower case and digits (hex digests, UUIDs, identifiers and
    hash-prefixed integrity strings are not credentials)."""
    if _sequential(value) or value.startswith(_FILE_MAGIC):
        return False
    if re.fullmatch(rb"[0-9a-fA-F\-]+", value) or re.match(rb"(?i)(sha|md)\d*[-:]", value):
        return False
    if not (re.search(rb"[a-z]", value) and re.search(rb"[A-Z]", value) and re.search(rb"\d", value)):
        return False
    return entropy(value) >= ENTROPY_BITS


def _assigned_secret(value: bytes) -> bool:
    """A credential's value, not a placeholder, a reference or a prose label."""
    v = value.strip()
    if len(v) < 4 or _PLACEHOLDER.match(v) or re.search(rb"\s", v):
        return False
    return not re.fullmatch(rb"[A-Z][A-Z0-9_]*", v)  # an environment variable's name


def _unquoted_secret(value: bytes) -> bool:
    """An unquoted ``KEY=value`` (env, ini, yaml): a literal, not code or a reference."""
    v = value.strip()
    if len(v) < 6 or re.search(rb"[()\[\]{}$<>@]|^[\"'`]", v) or _PLACEHOLDER.match(v):
        return False
    if re.fullmatch(rb"[A-Za-z_][\w.]*", v) and not _mixed(v):
        return False  # a name or attribute (``password = settings.password``)
    return len(v) >= 8


def _named_here(m: re.Match[bytes], data: bytes) -> bool:
    """The secret word ends a name: it starts it, follows ``_``/``.``/``-``, or starts a
    camelCase part (``clientSecret``); not inside a word (``jsonwebtoken``)."""
    i = m.start("word")
    prev = data[i - 1 : i]
    if not prev or not prev.isalnum():
        return True
    return data[i : i + 1].isupper() and (prev.islower() or prev.isdigit())


_KEY_BEFORE = re.compile(rb"""(?P<key>[A-Za-z_$][\w$.\-]*)["'\]]?\s*(?::=|=>|=|:)\s*\Z""")


def _entropy_secret(m: re.Match[bytes], data: bytes) -> bool:
    """A random-looking literal assigned to a name that is not a digest's, an id's or a place's."""
    if not _random_looking(_secret(m, data)):
        return False
    key = _KEY_BEFORE.search(data, max(0, m.start() - 100), m.start())
    return key is not None and not _NOT_SECRET_NAME.search(key.group("key"))


_TOKEN_HINTS = (b"AKIA", b"ASIA", b"ABIA", b"ACCA")
BUILTIN: tuple[Rule, ...] = (
    Rule(
        "private_key",
        re.compile(
            rb"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?P<secret>.*?)-----END[A-Z0-9 ]*PRIVATE KEY"
            rb"(?: BLOCK)?-----",
            re.DOTALL,
        ),
        hints=(b"PRIVATE KEY",),
    ),
    Rule(
        "aws_access_key",
        re.compile(rb"\b(?P<secret>(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16})\b"),
        keep=4,
        hints=_TOKEN_HINTS,
    ),
    Rule(
        "github_token",
        re.compile(rb"\b(?P<secret>gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
        keep=4,
        hints=(b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_", b"github_pat_"),
    ),
    Rule(
        "slack_token",
        re.compile(rb"\b(?P<secret>xox[abprs]-[A-Za-z0-9-]{10,250})"),
        keep=5,
        accept=lambda m, data: _mixed(_secret(m, data)),
        hints=(b"xox",),
    ),
    Rule(
        "openai_key",
        re.compile(rb"(?<![\w-])(?P<secret>sk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_\-]{20,200})"),
        keep=3,
        accept=lambda m, data: _mixed(_secret(m, data)) and bool(re.search(rb"[A-Z]", _secret(m, data))),
        hints=(b"sk-",),
    ),
    Rule(
        "google_api_key",
        re.compile(rb"\b(?P<secret>AIza[0-9A-Za-z_\-]{35})"),
        keep=4,
        hints=(b"AIza",),
    ),
    Rule(
        "jwt",
        re.compile(rb"\b(?P<secret>eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})"),
        keep=3,
        hints=(b"eyJ",),
    ),
    Rule(
        "assignment",
        re.compile(
            rb"(?P<word>"
            + _SECRET_WORD
            + rb")(?:[_\-]?key)?"
            + _OPERATOR
            + rb"""(?P<q>["'`])(?P<secret>[^"'`\n]{1,500})(?P=q)"""
        ),
        accept=lambda m, data: _named_here(m, data) and _assigned_secret(_secret(m, data)),
        folded_hints=(b"pass", b"pwd", b"secret", b"token", b"key"),
        folded=True,
    ),
    Rule(
        "assignment",  # KEY=value in env, ini and yaml files: to the end of the line
        re.compile(
            rb"(?m)^[ \t]*(?:export[ \t]+)?"
            + _SECRET_NAME
            + rb"""[ \t]*[=:][ \t]*(?P<secret>[^\s"'`#][^\s#]*)[ \t]*$"""
        ),
        accept=lambda m, data: _unquoted_secret(_secret(m, data)),
        files=CONFIG_FILES,
        folded_hints=(b"pass", b"pwd", b"secret", b"token", b"key"),
        folded=True,
    ),
    Rule(
        "high_entropy",
        re.compile(
            rb"""(?P<q>["'`])(?P<secret>[A-Za-z0-9+/=_\-]{%d,%d})(?P=q)"""
            % (ENTROPY_MIN_LEN, ENTROPY_MAX_LEN)
        ),
        accept=_entropy_secret,
    ),
)


@dataclass
class Redacted:
    """A file's masked bytes and what was found, by rule name."""

    data: bytes
    found: Counter[str] = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return sum(self.found.values())


class Redactor:
    """The built-in rules plus ``extra`` regexes from the settings (a regex's first group, or
    its whole match, is masked). Invalid extra regexes are reported in ``problems`` and skipped."""

    def __init__(self, extra: Sequence[str] = (), *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.problems: list[str] = []
        rules = list(BUILTIN)
        for n, source in enumerate(extra):
            try:
                rules.append(Rule(f"extra_{n + 1}", re.compile(source.encode("utf-8"))))
            except (re.error, UnicodeEncodeError) as exc:
                self.problems.append(
                    f"redact.extra_patterns[{n}] {source!r} is not a valid regex ({exc}); skipped"
                )
        self.rules = tuple(rules) if enabled else ()
        text = "\0".join([VERSION, str(enabled), *extra])
        self.fingerprint = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()

    def redact(self, data: bytes, path: str = "") -> Redacted:
        """``data`` (of the file at ``path``, root-relative) with every secret's bytes (newlines
        and a known prefix excepted) masked."""
        out = Redacted(data)
        if not self.rules:
            return out
        buf = bytearray(data)
        folded = data.lower()
        claimed = bytearray(len(data))  # 1: inside a secret an earlier rule found
        for rule in self.rules:
            if rule.files is not None and not rule.files.search(path):
                continue
            if not rule.may_match(data, folded):
                continue
            for m in rule.pattern.finditer(folded if rule.folded else data):
                start, end = _span(m)
                if end <= start or any(claimed[start:end]):
                    continue
                if rule.accept is not None and not rule.accept(m, data):
                    continue
                claimed[start:end] = b"\x01" * (end - start)
                for i in range(start + rule.keep, end):
                    if buf[i] not in (0x0A, 0x0D):
                        buf[i] = MASK
                out.found[rule.name] += 1
        out.data = bytes(buf)
        return out


def _span(m: re.Match[bytes]) -> tuple[int, int]:
    if "secret" in m.re.groupindex:
        return m.span("secret")
    if m.re.groups:
        return m.span(1)
    return m.span()
