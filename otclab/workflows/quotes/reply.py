"""The Chinese texts sent back to the chat: a quote (from the configurable template), a polite
refusal, a clarifying question.

Every text is sent @-mentioning the sender (``outbound.send``'s ``mentioned``: the webhook's
``mentioned_list``, ``<@userid>`` before a response_url's markdown), so the texts themselves do not
start with "@userid". The quote template names its values as ``{placeholder}``
(config.PLACEHOLDERS): ``client`` (the sender's WeCom userid), ``counterparty``, ``underlying`` and
``underlying_name``, ``structure_name``, ``tenor``, ``notional``, ``terms`` (the levels the quote
is for), ``quote`` (what was asked: 年化票息 23.93%, 期权费 4.37%（437,195 元）...),
``valid_until`` (Beijing time), ``validity_min``, ``quote_id``, ``engine``. A WeCom text is at most
2048 bytes; a longer text is cut at a character boundary.
"""
from __future__ import annotations

import datetime as dt
import functools

MAX_BYTES = 2048
CST = dt.timezone(dt.timedelta(hours=8))
STRUCTURES = {"snowball": "雪球", "phoenix": "凤凰", "sharkfin": "鲨鱼鳍", "double_sharkfin": "双鲨",
              "vanilla": "香草期权", "digital": "二元期权", "asian": "亚式期权", "barrier": "障碍期权"}
OPTION = {"call": "看涨", "put": "看跌"}
LEVELS = (("strike", "行权价"), ("ko_barrier", "敲出"), ("ki_barrier", "敲入"), ("barrier", "障碍"),
          ("coupon_barrier", "派息线"), ("barrier_low", "下障碍"), ("barrier_high", "上障碍"))


@functools.lru_cache(maxsize=64)
def underlying_name(code: str) -> str:
    """The underlying's first Chinese name in the parser's pool (the code if it has none)."""
    try:
        from ...rfq.underlyings import load_underlyings

        u = load_underlyings(()).by_code.get(code)
        return (u.names[0] if u and u.names else code) or code
    except Exception:          # the pool is the parser's data; a reply never fails for a name
        return code


def clip(text: str, limit: int = MAX_BYTES) -> str:
    b = text.encode("utf-8")
    if len(b) <= limit:
        return text
    return b[:limit - 3].decode("utf-8", errors="ignore") + "…"


def _pct(x) -> str:
    return f"{100 * float(x):.2f}%"


def _money(x) -> str:
    x = float(x)
    return f"{x / 1e4:,.0f}万" if abs(x) >= 1e4 and x % 1e4 == 0 else f"{x:,.0f} 元"


def tenor_text(months) -> str:
    if months is None:
        return ""
    m = float(months)
    return f"{int(m)}个月" if m == int(m) else f"{m:g}个月"


def terms_text(q: dict) -> str:
    """The levels the quote is for, as a trader would say them."""
    t = q.get("terms") or {}
    solved = ((q.get("pricing") or {}).get("solved") or {}).get("field")
    parts = []
    if t.get("option_type"):
        parts.append(OPTION.get(t["option_type"], t["option_type"]))
    for k, name in LEVELS:
        if t.get(k) is not None and k != solved:
            parts.append(f"{name} {_pct(t[k])}")
    if t.get("lockup_months"):
        parts.append(f"锁定期 {tenor_text(t['lockup_months'])}")
    if t.get("coupon") is not None and solved != "coupon":
        parts.append(f"票息 {_pct(t['coupon'])}")
    if t.get("participation") is not None and solved not in ("participation", "participation_high") \
            and q.get("structure") in ("sharkfin", "double_sharkfin"):
        parts.append(f"参与率 {_pct(t['participation'])}")
    return "，".join(parts) or "按标准条款"


def quote_text(q: dict) -> str:
    """What the client asked for: the solved term, or the price (and the vol when asked)."""
    p = q.get("pricing") or {}
    solved = p.get("solved")
    if solved:
        label = "年化票息" if solved["field"] == "coupon" else "参与率"
        return f"{label} {_pct(solved['value'])}"
    note = (q.get("terms") or {}).get("form") == "note"
    price = (f"价格 {_pct(p['value_pct'])}" if note
             else f"期权费 {_pct(p['value_pct'])}（{float(p['value']):,.0f} 元）")
    if q.get("solve_for") == "vol" and p.get("vol") is not None:
        return f"波动率 {_pct(p['vol'])}，{price}"
    return price


def values(q: dict, cfg) -> dict:
    """The placeholders of the quote template for quote ``q`` (a quote row as a dict)."""
    until = q["valid_until"]
    until = dt.datetime.fromisoformat(until) if isinstance(until, str) else until
    return {"client": q.get("sender") or "", "counterparty": q.get("counterparty_name") or "",
            "underlying": q.get("underlying") or "", "underlying_name": underlying_name(q.get("underlying") or ""),
            "structure": q.get("structure") or "", "structure_name": STRUCTURES.get(q.get("structure"), q.get("structure") or ""),
            "tenor": tenor_text(q.get("tenor_months")), "notional": _money(q.get("notional") or 0),
            "terms": terms_text(q), "quote": quote_text(q), "solve_for": q.get("solve_for") or "price",
            "value_pct": _pct((q.get("pricing") or {}).get("value_pct") or 0),
            "valid_until": until.astimezone(CST).strftime("%H:%M:%S"), "validity_min": f"{cfg.validity_s / 60:g}",
            "quote_id": q["quote_id"], "engine": (q.get("pricing") or {}).get("engine") or ""}


def quote_reply(q: dict, cfg) -> str:
    return clip(cfg.reply_template.format_map(values(q, cfg)))


def refusal(sender: str | None, status: str | None) -> str:
    """The polite refusal to a sender who may not be quoted (never a price)."""
    if status == "pending":
        why = "贵司的交易对手准入审核尚未完成"
    elif status == "blocked":
        why = "您的账号目前不在我司可报价的联系人名单中"
    else:
        why = "您的企业微信账号尚未关联到我司已完成准入的交易对手"
    return clip(f"您好，感谢您的询价。{why}，暂时无法为您提供报价。请联系对接的销售同事办理，谢谢理解！")


EXAMPLE = "“中证500 雪球 12个月 敲出103 敲入80 票息多少”"


def clarification(sender: str | None, missing: list[tuple[int, list[str]]], n_requests: int) -> str:
    """The question back for requests that lack fields: ``missing`` = (request number, labels)."""
    if not missing:
        return clip(f"您好，没有识别到询价要素。请注明标的、产品结构和期限，例如{EXAMPLE}。")
    if n_requests <= 1:
        items = "、".join(missing[0][1])
        return clip(f"您好，为了给您准确报价，请补充：{items}。例如{EXAMPLE}。")
    items = "；".join(f"第{i}笔：{'、'.join(labels)}" for i, labels in missing)
    return clip(f"您好，为了给您准确报价，请补充：{items}。例如{EXAMPLE}。")


def too_long(sender: str | None, why: str) -> str:
    return clip(f"您好，这条消息无法识别（{why}）。请分条发送询价，注明标的、产品结构和期限。")
