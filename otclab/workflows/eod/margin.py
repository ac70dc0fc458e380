"""履约保障 (performance margin) per counterparty under a documented, configurable policy.

For each counterparty, on the desk's valuation of its live trades::

    initial margin = Σ im[structure] × notional  (+ ki_addon × notional of knocked-in autocalls)
                     (note-form trades are prepaid in full and need none unless notes_prepaid is false)
    exposure       = max(0, Σ desk value)          what the client would owe the desk if closed out today
    required       = max(0, initial margin + exposure − threshold)
    held           = Σ collateral × (1 − haircut[asset])
    call           = required − held: a call when it is at least the minimum transfer amount, a
                     return of the excess when held − required is; nothing otherwise

The default policy (``DEFAULT_POLICY``) is illustrative; a desk sets its own in a JSON file
(``--margin-policy FILE`` or ``OTCLAB_MARGIN_POLICY``) with any of the keys below.
"""
from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

from sqlalchemy import func, select

from ...core.errors import InputError
from ...store import tables as T

DEFAULT_POLICY = {
    "initial_margin": {"snowball": 0.20, "phoenix": 0.20, "sharkfin": 0.05, "double_sharkfin": 0.05,
                       "barrier": 0.10, "vanilla": 0.10, "digital": 0.05, "asian": 0.10, "*": 0.15},
    "ki_addon": 0.10,
    "notes_prepaid": True,
    "threshold": 0.0,
    "minimum_transfer": 100_000.0,
    "haircuts": {"cash": 0.0, "bond": 0.05, "stock": 0.40},
}


def load_policy(path: str | None = None) -> dict:
    """The margin policy: ``path`` (or ``OTCLAB_MARGIN_POLICY``) merged over the default."""
    path = path or os.environ.get("OTCLAB_MARGIN_POLICY")
    policy = json.loads(json.dumps(DEFAULT_POLICY))
    if not path:
        return policy
    try:
        given = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"cannot read margin policy {path}: {e}", "margin_policy") from None
    unknown = sorted(set(given) - set(DEFAULT_POLICY))
    if unknown:
        raise InputError(f"unknown key(s) {unknown}; allowed: {', '.join(DEFAULT_POLICY)}", "margin_policy")
    for k, v in given.items():
        policy[k] = {**policy[k], **v} if isinstance(policy[k], dict) else v
    for k in ("threshold", "minimum_transfer", "ki_addon"):
        if not isinstance(policy[k], (int, float)) or policy[k] < 0:
            raise InputError(f"must be a non-negative number; got {policy[k]!r}", f"margin_policy.{k}")
    return policy


def collateral_held(conn, through, policy: dict) -> dict[str, float]:
    """Counterparty → collateral held on ``through``, after haircuts."""
    c = T.collateral
    out: dict = defaultdict(float)
    rows = conn.execute(select(c.c.counterparty_id, c.c.asset, func.sum(c.c.amount))
                        .where(c.c.date <= through).group_by(c.c.counterparty_id, c.c.asset))
    for cp, asset, amount in rows:
        out[cp] += float(amount) * (1.0 - policy["haircuts"].get(asset, 1.0))
    return dict(out)


def initial_margin(trade, policy: dict) -> float:
    """Initial margin of one live trade under ``policy`` (currency)."""
    rec = trade.record
    if policy.get("notes_prepaid", True) and rec.terms.get("form") == "note":
        return 0.0
    im = policy["initial_margin"]
    frac = im.get(rec.template, im.get("*", 0.0))
    if (trade.state or {}).get("ki") and rec.template in ("snowball", "phoenix"):
        frac += policy["ki_addon"]
    return frac * rec.notional


def margin_calls(trades, values: dict[str, float], held: dict[str, float], policy: dict) -> list[dict]:
    """One row per counterparty with live trades (see module docstring); ``values``: trade id →
    desk value (currency)."""
    by_cp: dict = defaultdict(list)
    for t in trades:
        by_cp[t.record.counterparty.id].append(t)
    out = []
    for cp, ts in sorted(by_cp.items()):
        im = sum(initial_margin(t, policy) for t in ts)
        mtm = sum(values.get(t.trade_id, 0.0) for t in ts)
        exposure = max(0.0, mtm)
        required = max(0.0, im + exposure - policy["threshold"])
        h = held.get(cp, 0.0)
        call = required - h
        if call >= policy["minimum_transfer"]:
            action = "call"
        elif -call >= policy["minimum_transfer"]:
            action = "return"
        else:
            action = "none"
        out.append({"counterparty_id": cp, "trades": len(ts), "notional": sum(t.record.notional for t in ts),
                    "initial_margin": im, "mtm": mtm, "exposure": exposure, "threshold": policy["threshold"],
                    "required": required, "held": h, "call": call if action != "none" else 0.0, "action": action})
    return out
