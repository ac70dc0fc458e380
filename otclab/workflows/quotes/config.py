"""The quote service's settings: WeCom credentials, validity, four-eyes, the reply template, pricing.

Read from a TOML or JSON file (``--config FILE``, or ``OTCLAB_QUOTES_CONFIG``) and from
environment variables, which win over the file (``OTCLAB_WECOM_TOKEN`` for ``token``, ...; the
names are in ``ENV``). Every value is checked when loaded; an error names the field and what is
allowed. Example (TOML)::

    token = "QDG6eK"
    encoding_aes_key = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
    receive_id = ""                 # "" for the robots, the corpid for a self-built app
    validity_s = 300                # a quote's validity
    four_eyes_notional = 30000000   # above it (CNY) two different traders approve
    reply_template_file = "reply.txt"
    webhook_url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=..."  # when a message has none
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import math
import os
import string
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError

DEFAULT_REPLY = ("您好，{counterparty}：{underlying_name}（{underlying}）{structure_name} {tenor}，"
                 "名义本金 {notional}，{terms}。报价：{quote}。有效至 {valid_until}（北京时间），"
                 "以双方最终确认为准。报价编号 {quote_id}")
# what a reply template may name (reply.py fills them)
PLACEHOLDERS = ("client", "counterparty", "underlying", "underlying_name", "structure", "structure_name", "tenor",
                "notional", "terms", "quote", "solve_for", "value_pct", "valid_until", "validity_min", "quote_id",
                "engine")


@dataclass(frozen=True)
class QuoteConfig:
    token: str = ""
    encoding_aes_key: str = ""
    receive_id: str = ""
    channel: str = "robot"                  # robot (JSON envelopes) | app (XML)
    path: str = "/wecom/callback"
    max_skew_s: int = 300
    bot_name: str | None = None             # the robot's name, stripped from "@name ..." (W's parser)
    validity_s: float = 300.0
    four_eyes_notional: float = 30_000_000.0
    reply_template: str = DEFAULT_REPLY
    webhook_url: str | None = None          # group robot to answer through when a message carries no URL
    default_notional: float = 10_000_000.0  # when the chat states none
    market: str = "store"                   # store (its latest snapshot) | a JSON file | a feed folder
    device: str = "auto"                    # auto (a GPU when CuPy sees one) | cpu | gpu
    pde_n_x: int = 401                      # the quote's PDE grid (benchmarks/quote_flow.py: accuracy)
    pde_steps_per_day: float = 2.0
    mc_paths: int = 50_000                  # templates without PDE or closed form
    seed: int = 20240101
    evidence_log: str | None = None         # default: beside the SQLite store, or the PostgreSQL store
    claim_lease_s: float = 30.0             # a claim older than this is taken over (its worker died)
    poll_s: float = 0.2                     # idle workers look for work this often (a receive wakes them)
    workers: int = 2                        # processing threads
    pricing_processes: int = 2              # processes for a solve's two valuations (0: in the thread)
    outbound_max_backoff_s: float = 60.0
    source: str = field(default="defaults", compare=False)


ENV = {"token": "OTCLAB_WECOM_TOKEN", "encoding_aes_key": "OTCLAB_WECOM_AES_KEY",
       "receive_id": "OTCLAB_WECOM_RECEIVE_ID", "channel": "OTCLAB_WECOM_CHANNEL",
       "webhook_url": "OTCLAB_WECOM_WEBHOOK", "bot_name": "OTCLAB_WECOM_BOT_NAME", "validity_s": "OTCLAB_QUOTE_VALIDITY_S",
       "four_eyes_notional": "OTCLAB_QUOTE_FOUR_EYES_NOTIONAL", "reply_template": "OTCLAB_QUOTE_REPLY_TEMPLATE",
       "reply_template_file": "OTCLAB_QUOTE_REPLY_TEMPLATE_FILE", "market": "OTCLAB_QUOTE_MARKET",
       "device": "OTCLAB_QUOTE_DEVICE", "evidence_log": "OTCLAB_QUOTE_EVIDENCE",
       "claim_lease_s": "OTCLAB_QUOTE_CLAIM_LEASE_S", "workers": "OTCLAB_QUOTE_WORKERS",
       "pricing_processes": "OTCLAB_QUOTE_PRICING_PROCESSES"}
FIELDS = {f.name: f for f in dataclasses.fields(QuoteConfig) if f.name != "source"}
NUMBERS = {"max_skew_s": (1, 86_400), "validity_s": (1, 86_400), "four_eyes_notional": (0, 1e13),
           "default_notional": (1, 1e13), "pde_n_x": (51, 20_001), "pde_steps_per_day": (0.25, 64),
           "mc_paths": (1_000, 10_000_000), "seed": (0, 2**32 - 1), "claim_lease_s": (0.5, 86_400),
           "poll_s": (0.005, 60), "workers": (1, 64), "pricing_processes": (0, 64), "outbound_max_backoff_s": (1, 3600)}
INTEGERS = {"max_skew_s", "pde_n_x", "mc_paths", "seed", "workers", "pricing_processes"}


def _read_file(path: Path) -> dict:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror or e}", "config") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(raw.decode("utf-8-sig"))
        else:
            import tomllib

            data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text", "config") from None
    except Exception as e:    # json.JSONDecodeError, tomllib.TOMLDecodeError
        raise ConfigError(f"{path} is not valid {'JSON' if path.suffix.lower() == '.json' else 'TOML'}: {e}",
                          "config") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a table of settings", "config")
    return data


def check_template(text: str, where: str = "reply_template") -> str:
    """The reply template if every ``{placeholder}`` in it is one reply.py fills; else ConfigError."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("must be non-empty text", where)
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as e:
        raise ConfigError(f"is not a valid template ({e}); write placeholders as {{name}}, braces as {{{{ }}}}",
                          where) from None
    bad = sorted({n for n in names if n not in PLACEHOLDERS})
    if bad:
        raise ConfigError(f"unknown placeholder {{{bad[0]}}}; allowed: {', '.join(PLACEHOLDERS)}", where)
    return text


def _check_key(key: str) -> None:
    if len(key) != 43:
        raise ConfigError(f"must be the 43 characters WeCom shows (base64 of 32 bytes without '='); got {len(key)}",
                          "encoding_aes_key")
    try:
        if len(base64.b64decode(key + "=", validate=True)) != 32:
            raise ValueError
    except (binascii.Error, ValueError):
        raise ConfigError("is not base64 of a 32-byte key (letters, digits, + and / only)", "encoding_aes_key") from None


def _coerce(name: str, value):
    f = FIELDS[name]
    if name in NUMBERS:
        if isinstance(value, bool):
            raise ConfigError(f"must be a number, got {value!r}", name)
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"must be a number, got {value!r}", name) from None
        lo, hi = NUMBERS[name]
        if not math.isfinite(v) or not lo <= v <= hi:
            raise ConfigError(f"must be between {lo:g} and {hi:g}, got {value!r}", name)
        if name in INTEGERS:
            if v != int(v):
                raise ConfigError(f"must be a whole number, got {value!r}", name)
            return int(v)
        return v
    if value is None:
        if f.default is None:
            return None
        raise ConfigError("must be given (text)", name)
    if not isinstance(value, str):
        raise ConfigError(f"must be text, got {type(value).__name__}", name)
    return value


def load_config(path: str | Path | None = None, env: dict | None = None, require_wecom: bool = True,
                **overrides) -> QuoteConfig:
    """The settings: defaults, then the file ``path`` (or ``$OTCLAB_QUOTES_CONFIG``), then the
    environment, then ``overrides``. ``require_wecom``: the token and EncodingAESKey must be set
    (the server needs them; the review commands do not)."""
    env = os.environ if env is None else env
    values: dict = {}
    path = path or env.get("OTCLAB_QUOTES_CONFIG") or None
    base = Path.cwd()
    if path:
        p = Path(path)
        data = _read_file(p)
        base = p.resolve().parent
        unknown = sorted(set(data) - set(FIELDS) - {"reply_template_file"})
        if unknown:
            raise ConfigError(f"unknown setting {unknown[0]!r} in {p}; allowed: "
                              f"{', '.join([*FIELDS, 'reply_template_file'])}", unknown[0])
        values.update(data)
    for name, var in ENV.items():
        if env.get(var) not in (None, ""):
            values[name] = env[var]
    values.update({k: v for k, v in overrides.items() if v is not None})
    if "reply_template_file" in values:
        tf = Path(values.pop("reply_template_file"))
        tf = tf if tf.is_absolute() else base / tf
        try:
            values.setdefault("reply_template", tf.read_text(encoding="utf-8-sig").strip())
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"cannot read the reply template {tf}: {getattr(e, 'strerror', None) or e}",
                              "reply_template_file") from None
    out = {name: _coerce(name, v) for name, v in values.items()}
    if "reply_template" in out:
        check_template(out["reply_template"])
    if out.get("channel", "robot") not in ("robot", "app"):
        raise ConfigError(f"must be robot or app, got {out['channel']!r}", "channel")
    if out.get("device", "auto") not in ("auto", "cpu", "gpu"):
        raise ConfigError(f"must be auto, cpu or gpu, got {out['device']!r}", "device")
    if require_wecom:
        for name in ("token", "encoding_aes_key"):
            if not out.get(name):
                raise ConfigError(f"is required by the callback server (in the config file or ${ENV[name]})", name)
    if out.get("encoding_aes_key"):
        _check_key(out["encoding_aes_key"])
    return QuoteConfig(**out, source=str(path) if path else "defaults")
