"""The underlying pool and the desk's jargon, read from a file the desk edits (``data/pool.toml``).

The shipped file is ``otclab/rfq/data/pool.toml``; ``$OTCLAB_RFQ_POOL`` (or ``parse(pool=...)``,
``otclab rfq parse --pool``) names another one that replaces it, so the desk changes names,
nicknames and jargon without a release. Extra underlying files (``$OTCLAB_RFQ_UNDERLYINGS``,
``parse(underlyings=...)``; TOML of the same shape or the older JSON list) add underlyings or
surface forms on top. A file is read again when it changes (its modification time and size are
part of the cache key), so a running service picks up an edit at its next message.

A bad entry is one ``InputError`` naming the file, the line and the field: an unknown key, a code
that is not an exchange code, an exchange that is not the code's, a surface form given to two
underlyings, a regular expression that does not compile, a tenor outside 0 to 120 months.
"""
from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ..core.errors import InputError
from .normalize import normalize
from .underlyings import Underlying, UnderlyingTable

POOL_ENV = "OTCLAB_RFQ_POOL"  # a pool file that replaces the shipped one
EXTRA_ENV = "OTCLAB_RFQ_UNDERLYINGS"  # extra underlying files (os.pathsep-separated), added on top

CODE_RE = re.compile(r"^\d{6}\.(SH|SZ|CSI|BJ)$")
EXCHANGE_OF = {"SH": "SSE", "SZ": "SZSE", "CSI": "CSI", "BJ": "BSE"}
UNDERLYING_KEYS = ("code", "exchange", "names", "nicknames", "aliases", "pinyin", "futures", "bare")
STRUCTURES = ("snowball", "phoenix", "sharkfin", "vanilla", "digital", "asian", "barrier")
OPTION_TYPES = ("call", "put")
MONEYNESS = ("atm", "otm", "itm")
JARGON_KEYS = ("structure", "option_type", "moneyness", "tenor", "same_terms")


@dataclass(frozen=True)
class Jargon:
    """The desk's words, as regular expressions on normalised text (hashable: rule sets compiled
    from it are cached by it).

    ``structure`` / ``option_type`` / ``moneyness``: (value, alternation) in file order (the first
    value whose words match wins); ``option_words``: the plain option-type words (they also mark a
    bare level next to them as the strike); ``tenor``: (normalised word, months), longest first;
    ``same_terms``: alternation of the words referring back to the previous request's terms."""

    structure: tuple[tuple[str, str], ...]
    option_type: tuple[tuple[str, str], ...]
    option_words: tuple[str, ...]
    moneyness: tuple[tuple[str, str], ...]
    tenor: tuple[tuple[str, float], ...]
    same_terms: str

    @property
    def structure_words(self) -> dict[str, str]:
        return dict(self.structure)

    @property
    def option_type_words(self) -> dict[str, str]:
        return dict(self.option_type)

    def moneyness_re(self, *kinds: str) -> str:
        """Alternation of the moneyness words of ``kinds`` (all kinds when none is given)."""
        return "|".join(f"(?:{p})" for k, p in self.moneyness if not kinds or k in kinds)

    def tenor_months(self, text: str) -> float | None:
        """Months of a tenor word ('半年' -> 6), None if ``text`` is none."""
        return dict(self.tenor).get(text.strip())


def word_pattern(word: str) -> str:
    """Regular expression for one plain word: normalised like a message, a space matching any
    spaces, a hyphen or nothing. (Latin words are not bounded: chat glues them to codes,
    '000905.shsnowball'; a pattern can add bounds where a word needs them.)"""
    w = normalize(word).text.strip()
    return r"[\s-]*".join(re.escape(p) for p in w.split())


def alternation(words: list[str], patterns: list[str] = ()) -> str:
    """Plain words (longest first, so '鲨鱼鳍' wins over '鲨鱼') then the patterns, as one regex."""
    ws = sorted({normalize(w).text.strip() for w in words if w.strip()}, key=len, reverse=True)
    return "|".join([word_pattern(w) for w in ws] + [f"(?:{p})" for p in patterns])


# --- reading -------------------------------------------------------------------------------------


class _Source:
    """A file's text, for error messages naming the line of a table or a key."""

    def __init__(self, path: Path, text: str):
        self.path, self.lines = path, text.splitlines()

    def line_of(self, pattern: str, start: int = 0, stop: int | None = None) -> int | None:
        rx = re.compile(pattern)
        for i in range(start, len(self.lines) if stop is None else min(stop, len(self.lines))):
            if rx.search(self.lines[i]):
                return i + 1
        return None

    def entries(self) -> list[int]:
        """1-based line numbers of the ``[[underlying]]`` headers, in order."""
        return [i + 1 for i, l in enumerate(self.lines) if re.match(r"\s*\[\[\s*underlyings?\s*\]\]", l)]

    def key_line(self, head: int | None, key: str) -> int | None:
        """Line of ``key = ...`` inside the [[underlying]] entry starting at line ``head``."""
        if not head:
            return None
        later = [h for h in self.entries() if h > head]
        return self.line_of(rf'^\s*"?{re.escape(key)}"?\s*[=:]', head - 1, later[0] - 1 if later else None) or head

    def fail(self, line: int | None, field: str, message: str):
        where = f"{self.path}" + (f", line {line}" if line else "")
        raise InputError(f"{where}: {message}", field=field)


def _read_file(path: Path) -> tuple[dict, _Source]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}", field="pool") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})", field="pool") from exc
    src = _Source(path, text)
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(f"{path}: not valid JSON: {exc}", field="pool") from exc
        if isinstance(data, list):
            data = {"underlying": data}
        elif isinstance(data, dict) and "underlyings" in data:
            data = {**data, "underlying": data["underlyings"]}
        if not isinstance(data, dict):
            raise InputError(f"{path}: expected a list of underlyings or {{'underlyings': [...]}}", field="pool")
        data.pop("underlyings", None)
        data.pop("_comment", None)
        return data, src
    try:
        return tomllib.loads(text), src
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}", field="pool") from exc


def _strings(src: _Source, line: int | None, field: str, value) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        src.fail(line, field, f"{field.rsplit('.', 1)[-1]} must be a list of non-empty strings, got {value!r}")
    return list(value)


def _underlyings(data: dict, src: _Source) -> list[tuple[dict, int | None]]:
    rows = data.get("underlying", [])
    if not isinstance(rows, list):
        src.fail(src.line_of(r"^\s*underlying\s*="), "underlying", "underlying must be a list of [[underlying]] tables")
    heads = src.entries()
    out = []
    for i, row in enumerate(rows):
        head = heads[i] if i < len(heads) else None
        stop = heads[i + 1] if i + 1 < len(heads) else None
        field = f"underlying[{i + 1}]"
        if not isinstance(row, dict):
            src.fail(head, field, f"entry {i + 1} must be a table of code, names, nicknames ..., got {row!r}")

        def line(key: str) -> int | None:
            return (src.line_of(rf'^\s*"?{key}"?\s*[=:]', head - 1, stop) if head else
                    src.line_of(rf'"{key}"\s*:\s*"?{re.escape(str(row.get(key, "")))[:40]}')) or head
        for key in row:
            if key not in UNDERLYING_KEYS:
                src.fail(line(key), f"{field}.{key}",
                         f"unknown key {key!r} in underlying {i + 1}; allowed: {', '.join(UNDERLYING_KEYS)}")
        code = row.get("code")
        if not isinstance(code, str) or not CODE_RE.match(code):
            src.fail(line("code"), f"{field}.code",
                     f"code must be 6 digits and .SH, .SZ, .CSI or .BJ (like 000905.SH), got {code!r}")
        field = f"underlying[{code}]"
        exchange = row.get("exchange")
        if exchange is not None and exchange != EXCHANGE_OF[code.split(".")[1]]:
            src.fail(line("exchange"), f"{field}.exchange",
                     f"exchange of {code} is {EXCHANGE_OF[code.split('.')[1]]}, got {exchange!r}")
        for key in UNDERLYING_KEYS[2:]:
            if key in row:
                _strings(src, line(key), f"{field}.{key}", row[key])
        out.append((row, head))
    return out


def _jargon(data: dict, src: _Source, base: Jargon | None) -> Jargon:
    j = data.get("jargon")
    if j is None:
        if base is None:
            src.fail(None, "jargon", "the pool file has no [jargon] tables (structure, option_type, moneyness, tenor, "
                     "same_terms)")
        return base
    if not isinstance(j, dict):
        src.fail(src.line_of(r"^\s*jargon\s*="), "jargon", "jargon must be a table")
    for key in j:
        if key not in JARGON_KEYS:
            src.fail(src.line_of(rf"^\s*\[\s*jargon\.{re.escape(key)}") or src.line_of(rf"^\s*{re.escape(key)}\s*="),
                     f"jargon.{key}", f"unknown jargon table {key!r}; allowed: {', '.join(JARGON_KEYS)}")

    def head(section: str) -> int | None:
        return src.line_of(rf"^\s*\[\s*jargon\.{re.escape(section)}\s*\]")

    def compiled(pattern, line, field) -> str:
        if not isinstance(pattern, str) or not pattern:
            src.fail(line, field, f"a pattern must be a non-empty string, got {pattern!r}")
        try:
            re.compile(pattern)
        except re.error as exc:
            src.fail(line, field, f"pattern {pattern!r} is not a regular expression: {exc}")
        return pattern

    def words_table(kind: str, allowed: tuple[str, ...]) -> tuple[tuple[tuple[str, str], ...], list[str]]:
        table = j.get(kind)
        if not isinstance(table, dict) or not table:
            src.fail(head(kind), f"jargon.{kind}", f"jargon.{kind} must have a table per value ({', '.join(allowed)})")
        out, plain = [], []
        for value, entry in table.items():
            field = f"jargon.{kind}.{value}"
            line = head(f"{kind}.{value}") or head(kind)
            if value not in allowed:
                src.fail(line, field, f"unknown {kind.replace('_', ' ')} {value!r}; allowed: {', '.join(allowed)}")
            if not isinstance(entry, dict) or set(entry) - {"words", "patterns"}:
                src.fail(line, field, f"{field} takes words = [...] and patterns = [...], got {entry!r}")
            words = _strings(src, src.line_of(r"^\s*words\s*=", line - 1 if line else 0) or line, f"{field}.words",
                             entry.get("words", []))
            pats = entry.get("patterns", [])
            if not isinstance(pats, list):
                src.fail(line, f"{field}.patterns", f"patterns must be a list of strings, got {pats!r}")
            pline = src.line_of(r"^\s*patterns\s*=", line - 1 if line else 0) or line
            pats = [compiled(p, pline, f"{field}.patterns") for p in pats]
            if not words and not pats:
                src.fail(line, field, f"{field} needs at least one word or pattern")
            out.append((value, alternation(words, pats)))
            plain += words
        return tuple(out), plain

    structure, _ = words_table("structure", STRUCTURES) if "structure" in j or base is None else (base.structure, [])
    if "option_type" in j or base is None:
        option_type, option_plain = words_table("option_type", OPTION_TYPES)
        option_words = tuple(sorted({normalize(w).text.strip() for w in option_plain}, key=len, reverse=True))
    else:
        option_type, option_words = base.option_type, base.option_words
    if "moneyness" in j or base is None:
        mt = j.get("moneyness")
        if not isinstance(mt, dict):
            src.fail(head("moneyness"), "jargon.moneyness", "jargon.moneyness must be a table of atm, otm, itm word lists")
        moneyness = []
        for kind in MONEYNESS:
            line = src.line_of(rf"^\s*{kind}\s*=") or head("moneyness")
            if kind not in mt:
                src.fail(head("moneyness"), f"jargon.moneyness.{kind}", f"jargon.moneyness needs {kind} = [...]")
            moneyness.append((kind, alternation(_strings(src, line, f"jargon.moneyness.{kind}", mt[kind]))))
        for kind in mt:
            if kind not in MONEYNESS:
                src.fail(src.line_of(rf"^\s*{re.escape(kind)}\s*=") or head("moneyness"), f"jargon.moneyness.{kind}",
                         f"unknown moneyness {kind!r}; allowed: {', '.join(MONEYNESS)}")
        moneyness = tuple(moneyness)
    else:
        moneyness = base.moneyness
    if "tenor" in j or base is None:
        tt = j.get("tenor")
        if not isinstance(tt, dict):
            src.fail(head("tenor"), "jargon.tenor", 'jargon.tenor must be a table of word = months ("半年" = 6)')
        tenor = []
        for word, months in tt.items():
            line = src.line_of(rf'^\s*"?{re.escape(word)}"?\s*=') or head("tenor")
            if isinstance(months, bool) or not isinstance(months, (int, float)) or not 0 < months <= 120:
                src.fail(line, f"jargon.tenor.{word}", f"tenor of {word!r} must be a number of months from 0 to 120, "
                         f"got {months!r}")
            tenor.append((normalize(word).text.strip(), float(months)))
        tenor = tuple(sorted(tenor, key=lambda t: len(t[0]), reverse=True))
    else:
        tenor = base.tenor
    if "same_terms" in j or base is None:
        st = j.get("same_terms")
        if not isinstance(st, dict) or set(st) - {"words", "patterns"}:
            src.fail(head("same_terms"), "jargon.same_terms", "jargon.same_terms takes words = [...] (and patterns)")
        line = head("same_terms")
        words = _strings(src, src.line_of(r"^\s*words\s*=", line - 1 if line else 0) or line, "jargon.same_terms.words",
                         st.get("words", []))
        pats = [compiled(p, line, "jargon.same_terms.patterns") for p in st.get("patterns", [])]
        same = alternation(words, pats)
    else:
        same = base.same_terms
    return Jargon(structure=structure, option_type=option_type, option_words=option_words, moneyness=moneyness,
                  tenor=tenor, same_terms=same)


def _merge(rows: list[tuple[dict, int | None, _Source]]) -> dict[str, Underlying]:
    by_code: dict[str, Underlying] = {}
    owner: dict[str, tuple[str, _Source, int | None]] = {}  # normalised surface form -> code
    for row, line, src in rows:
        code = row["code"]
        u = by_code.setdefault(code, Underlying(code=code, exchange=EXCHANGE_OF[code.split(".")[1]]))
        for key in ("names", "nicknames", "aliases", "pinyin", "futures", "bare"):
            attr = "nicknames" if key == "aliases" else key
            for v in row.get(key, []) or []:
                form = v.upper() if key == "futures" else normalize(v).text.strip()
                prev = owner.get((key == "futures", form))
                if prev is not None and prev[0] != code:
                    src.fail(src.key_line(line, key), f"underlying[{code}].{key}",
                             f"{v!r} already names {prev[0]} ({prev[1].path}, line {prev[2]}); a surface form may name "
                             f"one underlying")
                owner[(key == "futures", form)] = (code, src, line)
                if v not in getattr(u, attr):
                    getattr(u, attr).append(str(v))
    return by_code


def _table(by_code: dict[str, Underlying], jargon: Jargon, source: str) -> UnderlyingTable:
    forms, futures, bare = {}, {}, {}
    for u in by_code.values():
        six = u.code.split(".")[0]
        for s in [u.code, six, *u.names, *u.nicknames, *u.pinyin]:
            # messages are matched after normalisation (全角, typos, 五百 -> 500): so are the forms
            for f in (s.lower(), normalize(s).text):
                forms[f] = u.code
                forms[re.sub(r"\s+", "", f)] = u.code
        for f in u.futures:
            futures[f.upper()] = u.code
        for b in u.bare:
            bare[normalize(b).text.strip()] = u.code
    return UnderlyingTable(by_code=by_code, forms=forms, futures=futures, bare=bare, jargon=jargon, source=source)


@lru_cache(maxsize=1)
def shipped_pool_path() -> Path:
    """The pool file shipped in the package (found once: importlib.resources costs 0.2 ms a call)."""
    return Path(str(resources.files("otclab.rfq").joinpath("data/pool.toml")))


def pool_path(path: str | Path | None = None) -> Path:
    """The pool file in use: ``path``, else $OTCLAB_RFQ_POOL, else the shipped one."""
    if path:
        return Path(path)
    env = os.environ.get(POOL_ENV, "").strip()
    return Path(env) if env else shipped_pool_path()


def _stamp(p: Path) -> tuple[str, int, int]:
    try:
        st = p.stat()
        return str(p), st.st_mtime_ns, st.st_size
    except OSError:
        return str(p), -1, -1  # read (and failed on) by _load, which names the file


def load_pool(path: str | Path | None = None, extra: list[str | Path] | tuple = ()) -> UnderlyingTable:
    """The underlying table and jargon of the pool file (``pool_path(path)``), with the extra
    underlying files ``extra`` and those of $OTCLAB_RFQ_UNDERLYINGS added on top."""
    env = os.environ.get(EXTRA_ENV, "")
    extras = [Path(p) for p in extra] + [Path(p) for p in env.split(os.pathsep) if p.strip()]
    return _load(_stamp(pool_path(path)), tuple(_stamp(p) for p in extras))


@lru_cache(maxsize=16)
def _load(pool: tuple[str, int, int], extras: tuple[tuple[str, int, int], ...]) -> UnderlyingTable:
    data, src = _read_file(Path(pool[0]))
    for key in data:
        if key not in ("underlying", "jargon"):
            src.fail(src.line_of(rf"^\s*\[*\s*{re.escape(key)}"), key,
                     f"unknown table {key!r}; a pool file holds [[underlying]] entries and [jargon] tables")
    rows = [(row, line, src) for row, line in _underlyings(data, src)]
    if not rows:
        src.fail(None, "underlying", "the pool file lists no [[underlying]]")
    shipped = shipped_pool_path()
    # a pool of the desk's own may leave out [jargon] or some of its tables: the shipped ones apply
    base = None if Path(pool[0]) == shipped else _load(_stamp(shipped), ()).jargon
    jargon = _jargon(data, src, base)
    for p, _, _ in extras:
        edata, esrc = _read_file(Path(p))
        for key in edata:
            if key != "underlying":
                esrc.fail(esrc.line_of(rf"^\s*\[*\s*{re.escape(key)}"), key,
                          f"an extra underlyings file holds only [[underlying]] entries, got {key!r}")
        rows += [(row, line, esrc) for row, line in _underlyings(edata, esrc)]
    return _table(_merge(rows), jargon, pool[0])


def summary(table: UnderlyingTable) -> dict:
    """Counts of what a pool holds (for ``otclab rfq pool``)."""
    u = list(table.by_code.values())
    j = table.jargon
    return {
        "file": table.source, "underlyings": len(u),
        "names": sum(len(x.names) for x in u), "nicknames": sum(len(x.nicknames) for x in u),
        "pinyin": sum(len(x.pinyin) for x in u), "futures": sum(len(x.futures) for x in u),
        "bare": sum(len(x.bare) for x in u),
        "structures": [k for k, _ in j.structure], "option_types": [k for k, _ in j.option_type],
        "tenor_words": {w: m for w, m in j.tenor},
    }
