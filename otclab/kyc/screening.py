"""Name screening against sanctions and negative-news lists (FollowTheMoney JSON lines, the format
OpenSanctions publishes), with an n-gram index in front of rapidfuzz.

A list is read by ``load_lists`` (a ``.json``/``.jsonl``/``.ftm.json`` file or a folder of them):
every entity of schema Person, Company, Organization or LegalEntity with its ``name``, ``alias``,
``previousName`` and ``weakAlias`` properties, its ``topics`` (``sanction``, ``crime``,
``role.pep``, ...) and countries. Its version is the SHA-256 of the file's bytes.

Names are normalised (NFKC, case, punctuation, corporate suffixes such as 有限公司 / Co., Ltd.
removed; Latin tokens sorted) and scored 0..100 with ``rapidfuzz.fuzz.ratio`` (Chinese) or
``token_sort_ratio`` (Latin). Rather than scoring every entry (``screen_bruteforce``, the
baseline), ``ScreeningList.search`` first counts, with one ``numpy.bincount`` over an inverted
index, how many character n-grams (bigrams for Chinese, trigrams for Latin) each name shares with
the query, and scores only names sharing at least half of the query's n-grams: a name scoring
≥ 85 shares most of them, so the blocked search returns the same hits (tested against the
brute-force scan on the demo list).
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

from ..core.errors import InputError

SCHEMAS = {"Person", "Company", "Organization", "LegalEntity"}
NAME_PROPS = ("name", "alias", "previousName", "weakAlias")
DEMO_LIST = Path(__file__).with_name("data") / "demo_sanctions.ftm.json"

_CJK = re.compile(r"[\u3400-\u9fff]")
_SUFFIX_ZH = re.compile(r"(股份有限公司|有限责任公司|有限公司|集团|公司|合伙企业（有限合伙）|（有限合伙）|有限合伙|私募基金|证券投资基金)$")
_SUFFIX_EN = {"co", "ltd", "limited", "llc", "inc", "corp", "corporation", "company", "plc", "sa", "ag", "gmbh",
              "group", "holdings", "lp", "llp", "pte", "the"}


def normalise(name: str) -> str:
    """The form names are compared in: NFKC, lower case, no punctuation, no corporate suffix;
    Latin tokens sorted (word order does not matter), Chinese kept as a string of characters."""
    s = unicodedata.normalize("NFKC", name or "").lower().strip()
    if _CJK.search(s):
        s = re.sub(r"[\s\W_]+", "", s)
        for _ in range(2):
            s = _SUFFIX_ZH.sub("", s)
        return s
    tokens = [t for t in re.split(r"[\W_]+", s) if t]
    kept = [t for t in tokens if t not in _SUFFIX_EN] or tokens
    return " ".join(sorted(kept))


def is_cjk(key: str) -> bool:
    return bool(_CJK.search(key))


def grams(key: str) -> set[str]:
    """Character bigrams of a Chinese key, trigrams of a Latin one (spaces kept as boundaries)."""
    if is_cjk(key):
        return {key[i:i + 2] for i in range(len(key) - 1)} or {key}
    s = f" {key} "
    return {s[i:i + 3] for i in range(len(s) - 2)} or {s}


def score(a: str, b: str) -> float:
    """Similarity 0..100 of two normalised keys."""
    return fuzz.ratio(a, b) if is_cjk(a) else fuzz.token_sort_ratio(a, b)


def _scorer(a, b, **kw):
    return fuzz.ratio(a, b, **kw) if is_cjk(a) else fuzz.token_sort_ratio(a, b, **kw)


@dataclass
class Entry:
    id: str
    schema: str
    names: list[str]
    topics: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)


@dataclass
class ScreeningList:
    """One list: its name, version (SHA-256 of its file), entries and the index over their names."""

    name: str
    version: str
    entries: list[Entry]
    path: str | None = None
    _keys: list[str] = field(default_factory=list, repr=False)
    _owner: np.ndarray | None = field(default=None, repr=False)
    _names: list[str] = field(default_factory=list, repr=False)
    _postings: dict = field(default_factory=dict, repr=False)

    def build(self) -> "ScreeningList":
        """Build the n-gram index (once; ``search`` calls it)."""
        keys, owner, names, post = [], [], [], {}
        for ei, e in enumerate(self.entries):
            seen = set()
            for n in e.names:
                k = normalise(n)
                if not k or k in seen:
                    continue
                seen.add(k)
                ki = len(keys)
                keys.append(k)
                owner.append(ei)
                names.append(n)
                for g in grams(k):
                    post.setdefault(g, []).append(ki)
        self._keys, self._names = keys, names
        self._owner = np.asarray(owner, dtype=np.int64)
        self._postings = {g: np.asarray(v, dtype=np.int64) for g, v in post.items()}
        return self

    def search(self, name: str, cutoff: float, schemas: set[str] | None = None) -> list[dict]:
        """Entries whose best name scores ≥ ``cutoff`` against ``name``: [{entry_id, entry_name,
        schema, topics, score}], best first, one per entry."""
        if self._owner is None:
            self.build()
        q = normalise(name)
        if not q:
            return []
        qg = [g for g in grams(q) if g in self._postings]
        if not qg:
            return []
        counts = np.bincount(np.concatenate([self._postings[g] for g in qg]), minlength=len(self._keys))
        need = max(1, int(np.ceil(0.5 * len(grams(q)))))
        cand = np.flatnonzero(counts >= need)
        best: dict[int, tuple[float, int]] = {}
        for ki in cand.tolist():
            s = score(q, self._keys[ki])
            if s >= cutoff:
                ei = int(self._owner[ki])
                if ei not in best or s > best[ei][0]:
                    best[ei] = (s, ki)
        return self._hits(best, schemas)

    def _hits(self, best, schemas):
        out = []
        for ei, (s, ki) in best.items():
            e = self.entries[ei]
            if schemas and e.schema not in schemas:
                continue
            out.append({"list_name": self.name, "entry_id": e.id, "entry_name": self._names[ki], "schema": e.schema,
                        "topics": list(e.topics), "score": round(float(s), 1)})
        out.sort(key=lambda h: (-h["score"], h["entry_id"]))
        return out

    def search_bruteforce(self, name: str, cutoff: float, schemas: set[str] | None = None) -> list[dict]:
        """The baseline: ``rapidfuzz.process.extract`` over every name of the list (no index)."""
        if self._owner is None:
            self.build()
        q = normalise(name)
        if not q:
            return []
        best: dict[int, tuple[float, int]] = {}
        for _, s, ki in process.extract(q, self._keys, scorer=_scorer, score_cutoff=cutoff, limit=None):
            ei = int(self._owner[ki])
            if ei not in best or s > best[ei][0]:
                best[ei] = (s, ki)
        return self._hits(best, schemas)


def _entity(obj: dict, where: str) -> Entry | None:
    if not isinstance(obj, dict) or "id" not in obj or "schema" not in obj:
        raise InputError(f"{where}: not a FollowTheMoney entity (needs id, schema, properties)", "list")
    if obj["schema"] not in SCHEMAS:
        return None
    props = obj.get("properties") or {}
    if not isinstance(props, dict):
        raise InputError(f"{where}: properties must be an object", "list")
    names = [str(n) for p in NAME_PROPS for n in (props.get(p) or []) if str(n).strip()]
    if not names and obj.get("caption"):
        names = [str(obj["caption"])]
    if not names:
        return None
    return Entry(str(obj["id"]), obj["schema"], names, [str(t) for t in props.get("topics") or []],
                 [str(c) for c in props.get("country") or []])


def parse_list(data: bytes, name: str, path: str | None = None) -> ScreeningList:
    """A list from FollowTheMoney bytes: JSON lines (one entity a line) or one JSON array."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path or name}: not UTF-8 text", "list") from None
    entries = []
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"{path or name}: not valid JSON ({e.msg}, line {e.lineno})", "list") from None
        for i, obj in enumerate(items):
            e = _entity(obj, f"{path or name}[{i}]")
            if e:
                entries.append(e)
    else:
        for ln, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"{path or name} line {ln}: not valid JSON ({e.msg})", "list") from None
            e = _entity(obj, f"{path or name} line {ln}")
            if e:
                entries.append(e)
    return ScreeningList(name, hashlib.sha256(data).hexdigest(), entries, path)


def list_name(path: Path) -> str:
    n = path.name
    for suf in (".ftm.json", ".jsonl", ".json", ".ftm"):
        if n.endswith(suf):
            return n[: -len(suf)]
    return path.stem


def load_lists(path) -> list[ScreeningList]:
    """Every list in ``path`` (a file, or a folder's ``*.json``/``*.jsonl`` files), in name order."""
    p = Path(path)
    if p.is_dir():
        files = sorted(x for x in p.iterdir() if x.suffix in (".json", ".jsonl") and x.is_file())
        if not files:
            raise InputError(f"{p}: no .json or .jsonl list files in the folder", "list")
    elif p.is_file():
        files = [p]
    else:
        raise InputError(f"no list file or folder {p}", "list")
    return [parse_list(f.read_bytes(), list_name(f), str(f)) for f in files]


_CACHE: dict[str, ScreeningList] = {}


def cached(path: str, name: str, version: str) -> ScreeningList:
    """The list of that version, parsed and indexed once per process."""
    sl = _CACHE.get(version)
    if sl is None:
        data = Path(path).read_bytes()
        if hashlib.sha256(data).hexdigest() != version:
            raise InputError(f"the screening list file {path} changed since it was registered "
                             f"(version {version[:12]}); register it again with `otclab kyc lists load`", "list")
        sl = parse_list(data, name, path).build()
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[version] = sl
    return sl


def screen_subjects(lists: list[ScreeningList], subjects: list[dict], cutoff: float) -> list[dict]:
    """Hits of every subject ({role, name, schemas}) against every list: [{subject_role,
    subject_name, list_name, entry_id, entry_name, schema, topics, score}]."""
    out = []
    for s in subjects:
        for sl in lists:
            for h in sl.search(s["name"], cutoff, set(s.get("schemas") or []) or None):
                out.append({"subject_role": s["role"], "subject_name": s["name"], **h})
    return out


def subjects_of(values: dict, owners: list[tuple[str, float | None]]) -> list[dict]:
    """Who is screened: the institution (and a product's manager), its legal representative and
    its beneficial owners at or above the threshold share."""
    org = ["Company", "Organization", "LegalEntity"]
    out = []
    if values.get("name"):
        out.append({"role": "institution", "name": values["name"], "schemas": org})
    if values.get("manager_name"):
        out.append({"role": "manager", "name": values["manager_name"], "schemas": org})
    if values.get("legal_rep_name"):
        out.append({"role": "legal_rep", "name": values["legal_rep_name"], "schemas": ["Person"]})
    for name, _ in owners:
        out.append({"role": "owner", "name": name, "schemas": None})
    return out
