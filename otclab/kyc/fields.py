"""The client's form as data, and the check of each field as it is typed.

``FORM`` lists the steps and their fields (name, Chinese and English label, kind, choices,
required, which client types it applies to) so an app renders it without logic of its own;
``QUESTIONNAIRE`` the risk questions with their choices and scores; ``required_documents`` the
document kinds a client type must upload. ``check_field`` is pure and fast (no store): it parses
a value the way the form sends it (text from a browser, or typed Python values) and returns a
``Check`` whose level is ``ok``, ``warning`` (kept, shown to the reviewer) or ``error`` (not a
valid value; the case cannot be submitted with it), with the reason in Chinese and English.
``parse_value`` gives the typed value a check accepted (amounts in CNY as float, dates as
``datetime.date``, years as int, lists as lists of strings).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric, uscc

CLIENT_TYPES = {
    "enterprise": ("一般法人（非金融企业）", "legal entity (non-financial)"),
    "financial_institution": ("金融机构", "financial institution"),
    "asset_product": ("资产管理产品", "asset-management product"),
}


@dataclass(frozen=True)
class Check:
    """The verdict on one field: ``level`` ok | warning | error, and why (shown beside the field)."""

    level: str
    message: str

    @property
    def ok(self) -> bool:
        return self.level != "error"

    def to_dict(self) -> dict:
        return {"level": self.level, "message": self.message}


OK = Check("ok", "")


def _f(name, zh, en, kind, required=True, choices=None, client_types=None, help=""):
    return {"name": name, "label_zh": zh, "label_en": en, "kind": kind, "required": required,
            "choices": choices, "client_types": client_types, "help": help}


QUESTIONNAIRE = [
    {"name": "q_objective", "label_zh": "投资目标", "label_en": "investment objective", "choices": [
        ("preserve", "保值，本金安全优先 / capital preservation", 2),
        ("income", "稳健增值 / steady income", 8),
        ("growth", "较高收益，可承受较大波动 / growth", 14),
        ("speculate", "追求高收益，可承受本金全部损失 / maximum return", 20)]},
    {"name": "q_loss", "label_zh": "可承受的最大亏损", "label_en": "largest loss the institution can bear", "choices": [
        ("lt5", "不超过5% / up to 5%", 2), ("lt20", "5%–20%", 8), ("lt50", "20%–50%", 14),
        ("any", "超过50%，含本金全部损失 / over 50%, total loss", 20)]},
    {"name": "q_derivatives", "label_zh": "衍生品交易经验", "label_en": "derivatives experience", "choices": [
        ("none", "无 / none", 0), ("listed", "场内期货期权 / listed futures and options", 10),
        ("otc", "场外衍生品（收益互换、场外期权） / OTC derivatives", 20)]},
    {"name": "q_horizon", "label_zh": "投资期限", "label_en": "investment horizon", "choices": [
        ("lt1", "1年以内 / under 1 year", 5), ("1to3", "1–3年 / 1–3 years", 10), ("gt3", "3年以上 / over 3 years", 20)]},
    {"name": "q_staff", "label_zh": "专业投资团队", "label_en": "dedicated investment staff", "choices": [
        ("none", "无专职人员 / none", 0), ("some", "有专职人员 / some", 10),
        ("team", "有专业投资部门与风控 / an investment team with risk control", 20)]},
]
MAX_SCORE = sum(max(c[2] for c in q["choices"]) for q in QUESTIONNAIRE)   # 100

FORM = [
    {"name": "institution", "label_zh": "机构信息", "label_en": "institution", "fields": [
        _f("name", "机构名称", "legal name", "text"),
        _f("uscc", "统一社会信用代码", "unified social credit code (USCC)", "text",
           help="18位，末位为校验码 / 18 characters, the last a check character"),
        _f("client_type", "机构类型", "client type", "choice", choices=[(k, f"{z} / {e}") for k, (z, e) in CLIENT_TYPES.items()]),
        _f("registered_address", "注册地址", "registered address", "text"),
        _f("established", "成立日期", "date of establishment", "date"),
        _f("license_valid_until", "营业执照有效期至", "business licence valid until", "date",
           help="长期有效填 9999-12-31 / 9999-12-31 for no expiry"),
        _f("legal_rep_name", "法定代表人", "legal representative", "text"),
        _f("legal_rep_id", "法定代表人身份证号", "legal representative's resident ID", "text"),
        _f("legal_rep_id_valid_until", "身份证件有效期至", "ID valid until", "date"),
        _f("authorised_traders", "授权交易人员", "authorised traders", "list",
           help="每行一人：姓名 / one name a line"),
        _f("beneficial_owners", "受益所有人（持股25%及以上）", "beneficial owners (25% or more)", "list",
           help="每行：姓名,持股比例% / one a line: name, share%"),
        _f("manager_name", "管理人名称", "manager's legal name", "text", client_types=["asset_product"]),
    ]},
    {"name": "financials", "label_zh": "财务与投资经验", "label_en": "financials and experience", "fields": [
        _f("net_assets", "最近一年末净资产（元）", "net assets at last year end (CNY)", "amount",
           client_types=["enterprise", "financial_institution"], help="可写 5000万 或 0.5亿 / 5000万 or 0.5亿 accepted"),
        _f("financial_assets", "最近一年末金融资产（元）", "financial assets at last year end (CNY)", "amount",
           client_types=["enterprise", "financial_institution"]),
        _f("investment_years", "投资经历（年）", "investment experience (years)", "int",
           client_types=["enterprise", "financial_institution"]),
        _f("manager_aum", "管理人最近一年末管理资产规模（元）", "manager's assets under management (CNY)", "amount",
           client_types=["asset_product"]),
        _f("manager_years", "管理人投资经历（年）", "manager's investment experience (years)", "int",
           client_types=["asset_product"]),
        _f("product_size", "产品规模（元）", "product's assets (CNY)", "amount", client_types=["asset_product"]),
    ]},
    {"name": "questionnaire", "label_zh": "风险承受能力问卷", "label_en": "risk questionnaire", "fields": [
        _f(q["name"], q["label_zh"], q["label_en"], "choice", choices=[(v, label) for v, label, _ in q["choices"]])
        for q in QUESTIONNAIRE]},
    {"name": "documents", "label_zh": "证明文件", "label_en": "documents", "fields": []},
]
FIELDS = {f["name"]: (step["name"], f) for step in FORM for f in step["fields"]}
STEPS = [s["name"] for s in FORM]

DOCUMENTS = {
    "business_license": ("营业执照", "business licence"),
    "legal_rep_id": ("法定代表人身份证件", "legal representative's ID"),
    "authorisation": ("授权书", "letter of authorisation"),
    "financial_statements": ("财务报表", "financial statements"),
    "product_documents": ("产品文件（合同、备案证明）", "product documents (contract, registration)"),
}


def required_documents(client_type: str | None) -> list[dict]:
    """The document kinds a client of ``client_type`` must upload: [{kind, label_zh, label_en}].
    Every client: 营业执照, 法定代表人身份证件, 授权书, 财务报表; an asset-management product also
    its product documents."""
    kinds = ["business_license", "legal_rep_id", "authorisation", "financial_statements"]
    if client_type == "asset_product":
        kinds.append("product_documents")
    return [{"kind": k, "label_zh": DOCUMENTS[k][0], "label_en": DOCUMENTS[k][1]} for k in kinds]


def fields_for(client_type: str | None, step: str | None = None) -> list[dict]:
    """The fields that apply to ``client_type`` (all when unknown), optionally of one step."""
    out = []
    for s in FORM:
        if step and s["name"] != step:
            continue
        for f in s["fields"]:
            if f["client_types"] and client_type and client_type not in f["client_types"]:
                continue
            out.append(f)
    return out


# ---- parsing -------------------------------------------------------------------------------
_UNITS = {"万": 1e4, "亿": 1e8, "千": 1e3, "百万": 1e6, "k": 1e3, "m": 1e6, "w": 1e4}
_AMOUNT = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*(百万|万|亿|千|k|m|w)?\s*(?:元|cny|rmb)?$", re.I)


def parse_amount(value) -> float:
    """CNY from a number or text: '50,000,000', '5000万', '0.5亿', '50m'; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("not an amount")
    if isinstance(value, (int, float)):
        return float(value)
    s = str(value).strip().replace(",", "").replace("，", "").replace(" ", "").replace("¥", "").replace("￥", "")
    m = _AMOUNT.match(s)
    if not m:
        raise ValueError("not an amount")
    return float(m.group(1)) * _UNITS.get((m.group(2) or "").lower(), 1.0)


def parse_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    s = str(value).strip().replace("/", "-").replace(".", "-")
    if re.fullmatch(r"\d{8}", s):
        s = f"{s[:4]}-{s[4:6]}-{s[6:]}"
    return dt.date.fromisoformat(s)


def parse_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        items = re.split(r"[\n;；]", str(value))
    return [i.strip() for i in items if i.strip()]


def parse_owner(item: str) -> tuple[str, float | None]:
    """'张三, 30%' -> ('张三', 0.30); a share given without % above 1 is a percentage."""
    parts = re.split(r"[,，:：\t]", item)
    name = parts[0].strip()
    share = None
    if len(parts) > 1 and parts[-1].strip():
        s = parts[-1].strip().rstrip("%％").strip()
        share = float(s)
        share = share / 100 if share > 1 or parts[-1].strip().endswith(("%", "％")) else share
    return name, share


def parse_value(name: str, value):
    """The typed value of field ``name`` (see the module docstring); raises ValueError."""
    kind = FIELDS[name][1]["kind"] if name in FIELDS else "text"
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if kind == "amount":
        return parse_amount(value)
    if kind == "date":
        return parse_date(value)
    if kind == "int":
        if isinstance(value, float) and not value.is_integer():
            raise ValueError("not a whole number")
        return int(str(value).strip().rstrip("年"))
    if kind == "list":
        return parse_list(value)
    if kind == "text" and name == "uscc":
        return uscc.compact(str(value))
    if kind == "text" and name == "legal_rep_id":
        return ric.compact(str(value))
    return str(value).strip()


def _is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, (list, tuple))
                                                                             and not value)


def check_field(name: str, value, *, client_type: str | None = None, today: dt.date | None = None) -> Check:
    """The check of one field's value as typed (pure, no store). See the module docstring."""
    if name not in FIELDS:
        return Check("error", f"未知字段 / unknown field {name!r}")
    step, f = FIELDS[name]
    label = f"{f['label_zh']} / {f['label_en']}"
    today = today or dt.date.today()
    if f["client_types"] and client_type and client_type not in f["client_types"]:
        return OK if _is_empty(value) else Check("warning", f"{label}: 不适用于该机构类型 / not used for this client type")
    if _is_empty(value):
        return Check("error", f"{label}: 必填 / required") if f["required"] else OK
    kind = f["kind"]
    try:
        v = parse_value(name, value)
    except (ValueError, TypeError, stdnum_errors.ValidationError):
        what = {"amount": "金额，如 50000000、5000万、0.5亿 / an amount such as 50000000, 5000万 or 0.5亿",
                "date": "日期 YYYY-MM-DD / a date YYYY-MM-DD", "int": "整数 / a whole number"}.get(kind, "text")
        return Check("error", f"{label}: 应为{what}; 收到 {value!r}")
    if name == "uscc":
        return _check_uscc(v)
    if name == "legal_rep_id":
        return _check_ric(v, today)
    if kind == "choice":
        allowed = [c[0] for c in f["choices"]]
        if v not in allowed:
            return Check("error", f"{label}: 可选 {', '.join(allowed)} / one of {', '.join(allowed)}; 收到 {v!r}")
        return OK
    if kind == "amount":
        if v < 0:
            return Check("error", f"{label}: 不能为负 / cannot be negative")
        if v and v < 10_000:
            return Check("warning", f"{label}: {v:,.0f} 元偏小，单位是否为元？/ {v:,.0f} CNY looks small: is the unit 元?")
        return OK
    if kind == "int":
        if v < 0 or v > 100:
            return Check("error", f"{label}: 应在 0 到 100 之间 / between 0 and 100")
        return OK
    if kind == "date":
        if name == "established" and v > today:
            return Check("error", f"{label}: 不能晚于今天 / cannot be in the future")
        if name.endswith("valid_until"):
            if v < today:
                return Check("error", f"{label}: 已过期（{v}）/ expired on {v}")
            if (v - today).days < 30:
                return Check("warning", f"{label}: 30天内到期（{v}）/ expires within 30 days ({v})")
        return OK
    if kind == "list" and name == "beneficial_owners":
        total = 0.0
        for item in v:
            try:
                owner, share = parse_owner(item)
            except ValueError:
                return Check("error", f"{label}: '{item}' 应为 姓名,比例% / name, share%")
            if not owner:
                return Check("error", f"{label}: '{item}' 缺少姓名 / a name is missing")
            if share is not None and not 0 < share <= 1:
                return Check("error", f"{label}: '{item}' 比例应在 0–100% / share between 0 and 100%")
            total += share or 0
        if total > 1.0001:
            return Check("error", f"{label}: 合计 {total:.0%} 超过 100% / shares add up to more than 100%")
        return OK
    if kind == "text" and len(v) > 500:
        return Check("error", f"{label}: 过长（最多500字）/ at most 500 characters")
    if name == "registered_address" and not re.search(r"[\u4e00-\u9fff]", v):
        return Check("warning", f"{label}: 未见中文地址，是否为境外注册？/ no Chinese address: registered abroad?")
    return OK


def _check_uscc(v: str) -> Check:
    label = "统一社会信用代码 / USCC"
    if len(v) != 18:
        return Check("error", f"{label}: 应为18位，收到{len(v)}位 / 18 characters, got {len(v)}")
    try:
        uscc.validate(v)
    except stdnum_errors.InvalidChecksum:
        return Check("error", f"{label}: 校验码错误，末位应为 {uscc.calc_check_digit(v[:17])} / wrong check "
                              f"character: the last should be {uscc.calc_check_digit(v[:17])}")
    except stdnum_errors.ValidationError as e:
        return Check("error", f"{label}: 格式不符 / not a valid USCC ({e.message})")
    return OK


def _check_ric(v: str, today: dt.date) -> Check:
    label = "身份证号 / resident ID"
    if len(v) != 18:
        return Check("error", f"{label}: 应为18位，收到{len(v)}位 / 18 characters, got {len(v)}")
    if not v[:17].isdigit():
        return Check("error", f"{label}: 前17位应为数字 / the first 17 must be digits")
    if v[-1] != ric.calc_check_digit(v):
        return Check("error", f"{label}: 校验码错误，末位应为 {ric.calc_check_digit(v)} / wrong check character: "
                              f"the last should be {ric.calc_check_digit(v)}")
    try:
        born = ric.get_birth_date(v)
    except stdnum_errors.ValidationError:
        return Check("error", f"{label}: 出生日期无效 / the birth date in it is not a date")
    if born > today:
        return Check("error", f"{label}: 出生日期在未来 / birth date in the future")
    try:
        ric.get_birth_place(v)
    except stdnum_errors.ValidationError:
        # county codes are recoded when districts merge: an old or new code is no reason to refuse
        return Check("warning", f"{label}: 地区码 {v[:6]} 不在当前行政区划表中（可能已调整）/ county code "
                                f"{v[:6]} not in the current table (recoded?)")
    return OK
