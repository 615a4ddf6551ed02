"""Code-aware ranking of fused candidates.

Dense and lexical (BM25) candidates are fused (a convex combination of their max-normalised
scores by default, weighted reciprocal rank as the alternative), then re-scored by
signals a code search needs: what kind of query it is (an identifier or a sentence), whether a
chunk's name or file name is what the query names, whether it is a test or not code at all,
how well its whole file matches, and whether the results above already cover its file or lines.

Everything here is pure (no index access) so each signal is unit-tested on small fixtures and
switched off for ablation through :class:`RankConfig` (``bench/semble_bench.py --ablate``).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from codekin.index import lexical
from codekin.index.lexical import split_identifier, stem

# Files that are not code: prose, data and build configuration.
NON_CODE_LANGUAGES = frozenset(
    {
        "markdown",
        "text",
        "rst",
        "json",
        "yaml",
        "toml",
        "xml",
        "html",
        "css",
        "ini",
        "cmake",
        "make",
        "dockerfile",
        "csv",
        "asciidoc",
        "org",
        "tex",
        "svg",
        "lock",
    }
)
_NON_CODE_WORDS = frozenset(
    {
        "doc",
        "docs",
        "documentation",
        "readme",
        "changelog",
        "license",
        "markdown",
        "yaml",
        "yml",
        "toml",
        "makefile",
        "cmake",
        "dockerfile",
        "workflow",
        "workflows",
        "tutorial",
        "html",
        "css",
    }
)
_TEST_WORDS = frozenset(
    {
        "test",
        "tests",
        "testing",
        "spec",
        "specs",
        "mock",
        "mocks",
        "mocking",
        "fixture",
        "fixtures",
        "stub",
        "stubs",
        "fake",
        "assert",
        "assertion",
        "assertions",
        "benchmark",
        "benchmarks",
        "bench",
        "e2e",
        "unittest",
        "pytest",
        "jest",
        "vitest",
        "bats",
    }
)
_TEST_DIR = re.compile(
    r"(^|/)(tests?|__tests__|__mocks__|spec|specs|testing|testdata|test_data|fixtures?|"
    r"e2e|integration[-_]tests?)(/)",
    re.IGNORECASE,
)
# Code beside the product that is not a test either: mocks, examples, benchmarks. Often noise,
# but some libraries ship it (undici's public MockAgent lives in lib/mock/).
_AUXILIARY_DIR = re.compile(r"(^|/)(mocks?|benches|benchmarks?|examples?|samples?|demos?)(/)", re.IGNORECASE)
_TEST_FILE = re.compile(
    r"(^|/)(test_[^/]*|[^/]*_test\.[^/.]+|[^/]*_tests\.[^/.]+|[^/]*\.(test|spec|bench)\.[^/]+|"
    r"[^/]*_spec\.[^/.]+|[^/]*(Tests?|Spec)\.(java|kt|scala|cs|swift|php|m)|conftest\.py)$"
)
_GENERATED = re.compile(
    r"(\.min\.(js|css)$|\.pb\.go$|_pb2\.py$|\.generated\.[^/]+$|\.g\.(cs|dart)$|(^|/)generated/|"
    r"\.designer\.cs$|(^|/)PublicAPI\.(Un)?[Ss]hipped\.txt$)"
)
# Words that carry no meaning for matching names (kept out of name/path matching only).
STOPWORDS = lexical.STOPWORDS | frozenset(
    [
        "another",
        "class",
        "classes",
        "code",
        "etc",
        "function",
        "functions",
        "get",
        "gets",
        "getting",
        "handle",
        "handled",
        "handles",
        "handling",
        "implement",
        "implementation",
        "implemented",
        "implements",
        "logic",
        "method",
        "methods",
        "neither",
        "other",
        "own",
        "same",
        "set",
        "sets",
        "use",
        "used",
        "uses",
        "using",
        "vs",
        "whose",
        "work",
        "works",
        "yes",
    ]
)
_IDENT_QUERY = re.compile(r"^[A-Za-z_$][\w$]*(?:(?:::|\.|#|->|/)[A-Za-z_$][\w$]*)*(?:\(\))?$")


RRF_K = 60  # reciprocal-rank-fusion constant
DiversityKey = Callable[["Candidate"], str]


@dataclass(frozen=True)
class RankConfig:
    """Which ranking signals run and how strongly. The defaults are the shipped ranking; every
    ``use_*`` switch is one signal, measured by ablation on the semble benchmark."""

    # fusion by score: dense_share x cosine/best cosine + (1 - dense_share) x BM25/best BM25.
    # Off = reciprocal-rank fusion, which throws away how far ahead the best candidates are.
    # Against RRF, search --files NDCG@10 on 60 semble repositories 0.867 -> 0.877 (tuned on
    # the 24-repository subset: 0.886 -> 0.900; the other 36: 0.855 -> 0.862); hybrid MRR@10
    # CoSQA 0.804 -> 0.859, stdlib 0.430 -> 0.468. dense_share 0.7: subset 0.906, other 36
    # 0.859, CoSQA 0.839, stdlib 0.463.
    use_score_fusion: bool = True
    dense_share: float = 0.8
    # reciprocal-rank fusion (when score fusion is off)
    rrf_k: int = RRF_K
    # 2.0: CoSQA MRR 0.780 -> 0.816 at equal stdlib (0.411 -> 0.410) and semble (0.874 -> 0.873)
    dense_weight: float = 2.0
    lexical_weight: float = 1.0
    # identifier-like queries lean on the lexical list, sentences on the dense one
    use_query_type: bool = False  # (reciprocal-rank fusion only) measured: no gain on the semble subset
    symbol_lexical_weight: float = 2.0
    # a definition whose name is what the query names
    use_name_match: bool = True
    name_exact_boost: float = 1.0
    # members of a type the query names get this boost too (the type's header alone is rarely
    # the answer: "Create a new `JoinSet`" wants JoinSet::new)
    member_name_boost: float = 0.0
    # a sentence's exact name match counts this much of name_exact_boost (a doc comment names
    # the types it returns or takes, not only the definition it documents)
    sentence_name_share: float = 1.0
    # partial name matches: +0.004 on the semble subset but -0.10 MRR on CoSQA, so off
    name_partial_boost: float = 0.0
    # a file whose name is what the query names
    use_path_match: bool = True
    path_boost: float = 0.3
    # prose, data and config files sink unless the query asks for them
    use_non_code_penalty: bool = True
    non_code_factor: float = 0.3
    # a container header whose members are chunks of their own (``impl<T> Set<T> {``, a class
    # line and its fields) sinks below its members unless the query is that type's name
    use_header_penalty: bool = False
    header_factor: float = 0.7
    # module-level code (imports, top-level statements) sinks for queries about definitions
    use_module_penalty: bool = False
    module_factor: float = 0.7
    # the n-th definition with the same name (one method implemented for many types) is worth
    # less, so one name does not crowd the results
    use_name_diversity: bool = False
    name_diversity_decay: float = 0.8
    # tests, examples and generated code sink unless the query asks for them
    use_test_penalty: bool = True
    test_factor: float = 0.5
    auxiliary_factor: float = 0.5  # mocks, examples, benchmarks (not tests, not the product)
    # a chunk gains from the other good chunks of its file
    use_file_coherence: bool = True
    coherence_weight: float = 0.3
    coherence_top: int = 3
    # a chunk gains from how well its whole file matches the query lexically (BM25 over files,
    # divided by the best file's): weight x the best candidate's score x that share. On in
    # FILE_RANKING only: search --files on 60 semble repositories 0.877 -> 0.880 (weight picked
    # on the 24-repository subset: 0.05 0.904, 0.07 0.906, 0.1 0.904; the other 36: 0.862 ->
    # 0.863); chunk search gains there too (0.866 -> 0.869) but loses CoSQA MRR 0.853 -> 0.845.
    use_file_lexical: bool = False
    file_lexical_weight: float = 0.07
    # the n-th chunk of an already listed file is worth less (results cover more files)
    use_file_diversity: bool = True
    # 0.5 was best on semble (file-level, +0.008) but cost stdlib function search 0.18 R@10
    diversity_decay: float = 0.8
    # chunks of a file listed before the decay starts (2: a file's second definition competes freely)
    diversity_free: int = 1
    # chunks overlapping a better one of the same file are dropped
    use_dedup: bool = True

    def but(self, **changes: object) -> RankConfig:
        return replace(self, **changes)  # type: ignore[arg-type]


# Chunk search answers with definitions. The file-level signals (a file's name, its other good
# chunks, one place per file) and name matches inside sentences lift the wrong function of the
# right file: on doc comment -> function queries they cost more than the fusion gains (see
# README, Measured). They stay in FILE_RANKING, where the answer is a file.
DEFAULT_RANKING = RankConfig(
    use_path_match=False,
    use_file_coherence=False,
    use_file_diversity=False,
    sentence_name_share=0.0,
    member_name_boost=0.5,
    use_module_penalty=True,
    # Mocks, examples and benchmarks are less surely noise than tests: some libraries ship them
    # (undici's public MockAgent in lib/mock/: 23 of its 100 panel queries; JavaScript MRR 0.570
    # -> 0.655, no other panel repository changes). One repository's evidence, so the demotion
    # is softened rather than dropped (1.0 scored 0.683).
    auxiliary_factor=0.8,
    # A class, interface or impl header (its line, fields and member signatures) carries the
    # words of every member, so BM25 and the name match lift it over the member a sentence
    # describes ("Sets entity relation's value" -> QueryBuilder, not RelationQueryBuilder.set).
    # x0.85: function panel 0.503 -> 0.510 (TypeScript 0.394 -> 0.435, now above dense in every
    # language), stdlib 0.532 -> 0.550, CoSQA 0.859 unchanged; chunk search on the semble subset
    # 0.807 -> 0.794, where the header's file is the answer (search --files is unchanged).
    # x0.7: panel 0.510, Go -0.017, Python at dense; x0.5: panel 0.510, Go -0.019.
    use_header_penalty=True,
    header_factor=0.85,
)
# "Which files" results group ranked chunks by file, so per-file diversity has no job there, and
# how well a whole file matches is evidence in its own right.
# (Partial name matches: +0.004 on the semble subset, -0.007 on the other repositories: off.)
FILE_RANKING = RankConfig(use_file_diversity=False, use_file_lexical=True)
PLAIN_RRF = RankConfig(
    use_score_fusion=False,
    dense_weight=1.0,
    use_query_type=False,
    use_name_match=False,
    use_path_match=False,
    use_non_code_penalty=False,
    use_test_penalty=False,
    use_file_coherence=False,
    use_file_diversity=False,
    use_dedup=False,
)


@dataclass
class Candidate:
    """One chunk competing for a place in the results."""

    chunk_id: int
    path: str
    symbol: str = ""
    kind: str = ""
    start_line: int = 0
    end_line: int = 0
    language: str = ""
    container: str = ""
    is_header: bool = False  # a container header whose members are chunks of their own
    dense_rank: int | None = None  # 0-based position in the dense list
    dense_score: float = 0.0  # cosine
    lexical_rank: int | None = None
    lexical_score: float = 0.0  # BM25 (higher is better)
    file_lexical: float = 0.0  # its file's BM25 over whole files / the best file's (0: not found)
    score: float = 0.0
    notes: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class QueryInfo:
    text: str
    is_symbol: bool
    identifiers: tuple[str, ...]  # lower-cased identifiers the query names ("rails::paths" -> paths)
    stems: frozenset[str]  # stems of its content words and identifier parts
    joined: frozenset[str]  # runs of 2-3 adjacent words run together ("URL-encoded" -> urlencoded)
    wants_tests: bool
    wants_non_code: bool


def analyse_query(query: str) -> QueryInfo:
    text = query.strip()
    words = re.findall(r"[A-Za-z_$][\w$]*", text)
    is_symbol = bool(text) and looks_like_symbol(text)
    idents: list[str] = []
    for w in words:
        if is_symbol or _is_identifier_shaped(w):
            idents.append(w.lower().strip("_$"))
    parts: list[str] = []
    for w in words:
        parts += split_identifier(w) if _is_identifier_shaped(w) else [w.lower()]
    content = [p for p in parts if p not in STOPWORDS and len(p) > 1]
    lowered = {w.lower() for w in words}
    low = [w.lower() for w in words]
    joined = {"".join(low[i : i + n]) for n in (2, 3) for i in range(len(low) - n + 1)}
    return QueryInfo(
        text=text,
        is_symbol=is_symbol,
        identifiers=tuple(dict.fromkeys(i for i in idents if i)),
        stems=frozenset(stem(p) for p in content),
        joined=frozenset(joined),
        wants_tests=bool(lowered & _TEST_WORDS),
        wants_non_code=bool(lowered & _NON_CODE_WORDS),
    )


def looks_like_symbol(query: str) -> bool:
    """``JsonParser``, ``json_pointer``, ``Rails::Paths``, ``mergeConfig()``: an identifier (or
    a qualified one), not a sentence."""
    q = query.strip()
    if not _IDENT_QUERY.match(q):
        return False
    # a single plain lower-case word ("session") reads as a topic, not a name
    return not q.isalpha() or not q.islower()


def _is_identifier_shaped(word: str) -> bool:
    """camelCase, PascalCase with an inner capital, snake_case, or ALLCAPS with digits/underscores."""
    if "_" in word.strip("_") or "$" in word:
        return True
    return bool(re.search(r"[a-z][A-Z]|[A-Z]{2,}[a-z]|[A-Za-z]\d", word))


def is_test_path(path: str) -> bool:
    return bool(_TEST_DIR.search(path) or _TEST_FILE.search(path))


def is_auxiliary_path(path: str) -> bool:
    return bool(_AUXILIARY_DIR.search(path))


def is_generated_path(path: str) -> bool:
    return bool(_GENERATED.search(path))


def _path_kind(path: str, seen: dict[str, str]) -> str:
    """"test" (tests and generated code), "auxiliary" (mocks, examples, benchmarks) or "",
    remembered in ``seen`` (many candidates share a file)."""
    if path not in seen:
        test = is_test_path(path) or is_generated_path(path)
        seen[path] = "test" if test else "auxiliary" if is_auxiliary_path(path) else ""
    return seen[path]


def _file_stem(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.split(".", 1)[0] if not name.startswith(".") else name


def rank(query: str, candidates: list[Candidate], config: RankConfig = DEFAULT_RANKING) -> list[Candidate]:
    """Order candidates best first (dropped duplicates are left out)."""
    info = analyse_query(query)
    if config.use_score_fusion:
        fuse_scores(candidates, config.dense_share)
    else:
        lexical_weight = config.lexical_weight
        if config.use_query_type and info.is_symbol:
            lexical_weight *= config.symbol_lexical_weight
        fuse_ranks(candidates, config.rrf_k, config.dense_weight, lexical_weight)
    kinds: dict[str, str] = {}  # per path: many candidates share a file
    for c in candidates:
        factors = adjustment_factors(info, c, config, _path_kind(c.path, kinds))
        factor = math.prod(factors.values())
        c.notes = {**c.notes, "fused": c.score, **{FACTOR_PREFIX + k: v for k, v in factors.items()}}
        c.score *= factor
        c.notes["factor"] = factor
    if config.use_file_coherence:
        apply_file_coherence(candidates, config.coherence_weight, config.coherence_top)
    if config.use_file_lexical:
        apply_file_lexical(candidates, config.file_lexical_weight)
    ordered = sorted(candidates, key=lambda c: (-c.score, c.chunk_id))
    if config.use_dedup:
        ordered = drop_overlaps(ordered)
    decays: list[tuple[DiversityKey, float]] = []
    if config.use_file_diversity:
        decays.append((file_key, config.diversity_decay))
    if config.use_name_diversity:
        decays.append((name_key, config.name_diversity_decay))
    return diversify(ordered, decays, config.diversity_free) if decays else ordered


def set_ranks(
    candidates: dict[int, Candidate], dense: list[tuple[int, float]], lexical: list[tuple[int, float]]
) -> None:
    """Give each candidate its place and score in the dense and lexical lists (by chunk id;
    ids without a candidate are skipped)."""
    for r, (cid, score) in enumerate(dense):
        if cid in candidates:
            candidates[cid].dense_rank, candidates[cid].dense_score = r, score
    for r, (cid, score) in enumerate(lexical):
        if cid in candidates:
            candidates[cid].lexical_rank, candidates[cid].lexical_score = r, score


def reciprocal_rank(rank: int | None, weight: float, k: int) -> float:
    """One list's share in reciprocal-rank fusion: weight / (k + 1-based rank), 0 when absent."""
    return 0.0 if rank is None else weight / (k + rank + 1)


FACTOR_PREFIX = "factor."  # notes key of each multiplicative adjustment, by signal name


def adjustment_factors(
    info: QueryInfo, c: Candidate, config: RankConfig, path_kind: str | None = None
) -> dict[str, float]:
    """Each enabled multiplicative signal's factor for ``c`` by name (1.0: the signal ran and
    left it as it was); their product scales the fused score. ``path_kind``: ``c.path``'s
    :func:`_path_kind` when the caller has it."""
    out: dict[str, float] = {}
    if config.use_name_match:
        out["name_match"] = 1.0 + name_match(info, c, config)
    if config.use_header_penalty:
        header = c.is_header and not names_definition(info, c)
        out["header"] = config.header_factor if header else 1.0
    if config.use_module_penalty:
        module = c.kind == "module" and not info.wants_non_code
        out["module"] = config.module_factor if module else 1.0
    if config.use_path_match:
        out["path"] = 1.0 + path_match(info, c.path) * config.path_boost
    if config.use_non_code_penalty:
        non_code = not info.wants_non_code and c.language in NON_CODE_LANGUAGES
        out["non_code"] = config.non_code_factor if non_code else 1.0
    if config.use_test_penalty:
        kind = "" if info.wants_tests else path_kind if path_kind is not None else _path_kind(c.path, {})
        out["test"] = config.test_factor if kind == "test" else 1.0
        out["auxiliary"] = config.auxiliary_factor if kind == "auxiliary" else 1.0
    return out


def fuse_ranks(candidates: list[Candidate], k: int, dense_weight: float, lexical_weight: float) -> None:
    """Weighted reciprocal-rank fusion of the dense and lexical ranks."""
    for c in candidates:
        d = reciprocal_rank(c.dense_rank, dense_weight, k)
        lex = reciprocal_rank(c.lexical_rank, lexical_weight, k)
        c.score = d + lex
        c.notes = {"dense_part": d, "lexical_part": lex}


def fuse_scores(candidates: list[Candidate], dense_share: float) -> None:
    """Convex combination of each list's scores divided by that list's best score. A candidate
    missing from the dense list gets the list's lowest cosine (it ranked below all of them);
    one missing from the lexical list gets 0 (BM25 found too little of the query in it)."""
    dense = [c.dense_score for c in candidates if c.dense_rank is not None]
    lexical = [c.lexical_score for c in candidates if c.lexical_rank is not None]
    dense_best = max(dense, default=0.0)
    dense_floor = max(min(dense, default=0.0), 0.0)
    lexical_best = max(lexical, default=0.0)
    for c in candidates:
        d = 0.0
        if dense_best > 0:
            d = (max(c.dense_score, 0.0) if c.dense_rank is not None else dense_floor) / dense_best
        lx = c.lexical_score / lexical_best if c.lexical_rank is not None and lexical_best > 0 else 0.0
        c.score = dense_share * d + (1.0 - dense_share) * max(lx, 0.0)
        c.notes = {"dense_part": d, "lexical_part": max(lx, 0.0), "dense_best": dense_best}
        c.notes["lexical_best"] = lexical_best


def names_definition(info: QueryInfo, c: Candidate) -> bool:
    """The query names this definition exactly (``JoinSet``, ``Set.add``, ``set::add``)."""
    if not c.symbol or not info.identifiers:
        return False
    name = c.symbol.lower().strip("_$")
    qualified = ".".join(p for p in (c.container, c.symbol) if p).lower()
    for ident in info.identifiers:
        last = _last_segment(ident)
        if name == ident or qualified.endswith(ident) or (last and name == last):
            return True
    return False


def names_container(info: QueryInfo, c: Candidate) -> bool:
    """The query names the type this member belongs to (``JoinSet`` for ``JoinSet.new``)."""
    if not c.container or not info.identifiers:
        return False
    owner = c.container.rsplit(".", 1)[-1].lower().strip("_$")
    return any(_last_segment(ident) == owner for ident in info.identifiers)


_SEGMENTS = re.compile(r"::|\.|#|->|/")


def _last_segment(ident: str) -> str:
    """``rails::paths`` -> ``paths``."""
    return _SEGMENTS.split(ident)[-1]


def name_match(info: QueryInfo, c: Candidate, config: RankConfig) -> float:
    """Boost for a definition named by the query: exact identifier match (or, scaled, a member of
    the type it names), or (for sentences) the share of the name's parts the query mentions."""
    if not c.symbol:
        return 0.0
    share = 1.0 if info.is_symbol else config.sentence_name_share
    if names_definition(info, c):
        return config.name_exact_boost * share
    if config.member_name_boost and names_container(info, c):
        return config.member_name_boost * share
    if not config.name_partial_boost:  # off by default: skip stemming every candidate's name
        return 0.0
    parts = [stem(p) for p in split_identifier(c.symbol) if len(p) > 1]
    if not parts or not info.stems:
        return 0.0
    share = sum(1 for p in parts if p in info.stems) / len(parts)
    return config.name_partial_boost * share if share >= 0.5 else 0.0


def path_match(info: QueryInfo, path: str) -> float:
    """1.0 when the file's name is entirely made of words the query uses (``sessions.py`` for
    "session management"), the share of them otherwise (0 below one half)."""
    base = _file_stem(path)
    flat = base.lower().replace("_", "").replace("-", "")
    if flat in info.joined or any(flat == i.replace("_", "") for i in info.identifiers):
        return 1.0
    parts = [stem(p) for p in split_identifier(base.replace("-", "_")) if len(p) > 1]
    if not parts or not info.stems:
        return 0.0
    share = sum(1 for p in parts if p in info.stems) / len(parts)
    return share if share >= 0.5 else 0.0


def apply_file_coherence(candidates: list[Candidate], weight: float, top: int) -> None:
    """Each chunk gains ``weight`` × the summed scores of its file's best other chunks."""
    by_file: dict[str, list[float]] = defaultdict(list)
    for c in candidates:
        by_file[c.path].append(c.score)
    best = {p: sorted(v, reverse=True)[:top] for p, v in by_file.items()}
    for c in candidates:
        others = list(best[c.path])
        if c.score in others:
            others.remove(c.score)
        bonus = weight * sum(others[: top - 1])
        c.score += bonus
        c.notes["coherence"] = bonus


def apply_file_lexical(candidates: list[Candidate], weight: float) -> None:
    """Each chunk gains ``weight`` × the best candidate's score × its file's lexical share, so
    the signal keeps the same strength whatever the scale of the scores above."""
    top = max((c.score for c in candidates), default=0.0)
    for c in candidates:
        bonus = weight * top * c.file_lexical
        c.score += bonus
        c.notes["file_lexical"] = bonus


def drop_overlaps(ordered: list[Candidate]) -> list[Candidate]:
    """Keep a chunk only if no better chunk of the same file shares lines with it."""
    kept: list[Candidate] = []
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for c in ordered:
        if any(c.start_line <= e and s <= c.end_line for s, e in spans[c.path]):
            continue
        spans[c.path].append((c.start_line, c.end_line))
        kept.append(c)
    return kept


def diversify(
    ordered: list[Candidate], decays: Sequence[tuple[DiversityKey, float]], free: int = 1
) -> list[Candidate]:
    """Re-score the n-th chunk of a file (or of a name, per ``decays``) by ``decay``^(n-free)
    (the first ``free`` go unchanged), greedily, so a file already listed must be clearly better
    to take another place."""
    seen: list[dict[str, int]] = [defaultdict(int) for _ in decays]

    def factor(c: Candidate) -> float:
        f = 1.0
        for (key, decay), counts in zip(decays, seen, strict=True):
            f *= decay ** max(counts[key(c)] - free + 1, 0)
        return f

    out: list[Candidate] = []
    pending = list(ordered)
    while pending:
        best_i = max(range(len(pending)), key=lambda i: (pending[i].score * factor(pending[i]), -i))
        c = pending.pop(best_i)
        c.notes["diversity"] = factor(c)
        for (key, _), counts in zip(decays, seen, strict=True):
            counts[key(c)] += 1
        out.append(c)
        if len(out) >= 50:  # beyond any page anyone reads: keep the rest in order
            out += pending
            break
    return out


def file_key(c: Candidate) -> str:
    return c.path


def name_key(c: Candidate) -> str:
    return c.symbol or f"\0{c.chunk_id}"  # nameless chunks never share a key
