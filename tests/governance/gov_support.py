"""Shared by the governance and scheduler tests: template notebooks in a temporary trusted folder
(an edited copy of a shipped template is a new version, a draft in the store), a users file,
and the store fixtures of tests/store/conftest.py (every store test on SQLite and PostgreSQL)."""
from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path

from otclab.templates.loader import BUILTIN_DIR

BOOK_DATE = dt.date(2025, 6, 3)

USERS = """
[users.alice]
groups = ["quant", "risk"]
[users.bob]
groups = ["quant"]
[users.carol]
groups = ["risk"]
[users.olga]
groups = ["operations"]
"""


def store_fixtures():
    spec = importlib.util.spec_from_file_location("_gov_store_fixtures",
                                                  Path(__file__).parents[1] / "store" / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def notebook(folder: Path, name: str, edit=None, extra_cell: str | None = None, stem: str | None = None) -> Path:
    """A copy of shipped template ``name`` in ``folder`` (as ``stem``.ipynb): ``edit(tag, source)``
    returns each tagged cell's new source; ``extra_cell`` appends a validation cell."""
    nb = json.loads((BUILTIN_DIR / f"{name}.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if edit and cell["cell_type"] == "code" and tags:
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = edit(tags[0], src)
    if extra_cell:
        nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "extra-validation",
                            "metadata": {"tags": ["validation"]}, "outputs": [], "source": extra_cell})
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem or name}.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def reviewed(tag: str, src: str) -> str:
    """The desk's edit: a comment in the payoff cell (a new version, the same payoff)."""
    return src + "\n# reviewed for the new client docs\n" if tag == "payoff" else src


def vanilla_trade(trade_id: str, **kw) -> dict:
    """A vanilla call on CSI 300 (tests/store/test_trades.py's), booked on ``BOOK_DATE``."""
    return {"trade_id": trade_id, "template": "vanilla", "direction": "sell", "trade_date": "2025-06-02",
            "counterparty": {"id": "CP001", "name": "上海晨星私募基金管理有限公司", "uscc": "91310115290019682B"},
            "premium": 1e5,
            "terms": {"underlying": "000300.SH", "notional": 5e6, "initial_price": 3900.0, "start_date": "2025-06-03",
                      "tenor_months": 6, "option_type": "call", "strike": 1.0},
            **kw}


def onboard(store, counterparties: list[dict], by: str = "test-operations") -> None:
    """The counterparties ({id, name, uscc}) in the KYC client master as approved clients (booking
    and quoting also refuse a client that is not onboarded)."""
    from otclab.kyc.clients import record_client

    with store.begin() as conn:
        for cp in counterparties:
            record_client(conn, counterparty_id=cp["id"], name=cp["name"], uscc=cp.get("uscc"), status="approved",
                          c_level=5, eligible_otc=True, review_date=dt.date.today(), docs_valid_until=None,
                          source="import", recorded_by=by)
