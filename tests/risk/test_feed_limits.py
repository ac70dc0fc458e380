"""The refresh's market feed (a folder of JSON snapshots and CSV spots) and its limits file."""
from __future__ import annotations

import datetime as dt
import json
import os
import time

import pytest

from otclab.core.errors import InputError
from otclab.workflows.demo import base_market
from otclab.workflows.risk.feed import CST, FeedError, FolderFeed
from otclab.workflows.risk.limits import DEFAULT_LIMITS, load_limits, utilisation

D = dt.date(2025, 12, 31)


def _snap(folder, name, as_of, spot=4000.0):
    data = {"as_of": as_of, **base_market(D, {"000300.SH": spot, "510300.SH": 4.0})}
    (folder / name).write_text(json.dumps(data), encoding="utf-8")


def test_the_newest_market_by_its_time_wins_and_csv_spots_ride_on_the_json(tmp_path):
    _snap(tmp_path, "a.json", "2025-12-31T10:00:00+08:00", 4000.0)
    _snap(tmp_path, "b.json", "2025-12-31T09:30:00", 3990.0)           # older, though written later
    snap, t, src = FolderFeed(tmp_path, settle=0).latest()
    assert (src, snap.spot("000300.SH"), t) == ("a.json", 4000.0, dt.datetime(2025, 12, 31, 10, tzinfo=CST))
    (tmp_path / "c.csv").write_text("underlying,spot,as_of\n000300.SH,4012.5,2025-12-31T10:10:00+08:00\n",
                                    encoding="utf-8")
    snap, t, src = FolderFeed(tmp_path, settle=0).latest()
    assert src == "c.csv" and snap.spot("000300.SH") == 4012.5
    assert snap.spot("510300.SH") == 4.0                 # the rest from the newest JSON snapshot
    assert snap.to_dict()["vols"]["000300.SH"]["vols"] == base_market(D, {})["vols"]["000300.SH"]["vols"]


def test_a_file_still_being_written_waits_its_turn(tmp_path):
    _snap(tmp_path, "a.json", "2025-12-31T10:00:00+08:00")
    _snap(tmp_path, "b.json", "2025-12-31T10:30:00+08:00")
    old = time.time() - 60
    os.utime(tmp_path / "a.json", (old, old))
    assert FolderFeed(tmp_path, settle=30).latest()[2] == "a.json"
    assert FolderFeed(tmp_path, settle=0).latest()[2] == "b.json"


@pytest.mark.parametrize("name, text, message", [
    ("bad.json", "{not json", "bad.json is not a readable JSON market snapshot"),
    ("list.json", "[1, 2]", "a market snapshot is a JSON object"),
    ("t.json", json.dumps({"as_of": "at ten", **base_market(D, {"000300.SH": 1.0})}), "as_of must be an ISO time"),
    ("s.csv", "underlying,spot\n000300.SH,-4\n", "s.csv row 2: spot must be a positive finite price"),
    ("n.csv", "underlying,spot\n000300.SH,nan\n", "n.csv row 2: spot must be a positive finite price"),
    ("h.csv", "code,price\n000300.SH,4000\n", "h.csv row 2: expected underlying,spot"),
])
def test_unusable_files_are_named_not_skipped(tmp_path, name, text, message):
    _snap(tmp_path, "good.json", "2025-12-31T10:00:00+08:00")
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(FeedError, match=message):
        FolderFeed(tmp_path, settle=0).latest()


def test_an_empty_or_missing_folder_says_what_to_drop(tmp_path):
    with pytest.raises(FeedError, match="drop a .json snapshot or a .csv of spots"):
        FolderFeed(tmp_path, settle=0).latest()
    with pytest.raises(FeedError, match="no market folder"):
        FolderFeed(tmp_path / "nowhere").latest()
    (tmp_path / "s.csv").write_text("underlying,spot\n000300.SH,4000\n", encoding="utf-8")
    with pytest.raises(FeedError, match="no JSON snapshot for curves and vols"):
        FolderFeed(tmp_path, settle=0).latest()


def test_limits_file_checked_naming_the_field(tmp_path):
    p = tmp_path / "limits.json"
    for data, field, msg in [({"book": {"delta": 1}}, "limits.book", "unknown measure 'delta'"),
                             ({"underlyings": {"000300.SH": {"vega": -1}}}, "limits.underlyings.000300.SH.vega",
                              "positive number"),
                             ({"books": {}}, "limits", "expected")]:
        p.write_text(json.dumps(data), encoding="utf-8")
        with pytest.raises(InputError, match=msg) as e:
            load_limits(str(p))
        assert e.value.field == field
    assert load_limits(None) == DEFAULT_LIMITS


def test_utilisation_per_underlying_and_book():
    totals = {"cash_delta": -9e9, "vega": 1e7, "by_underlying": {
        "000300.SH": {"cash_delta": -5e9, "vega": 1e7, "notional": 6e8},
        "510300.SH": {"cash_delta": -4e9, "vega": 0.0, "notional": 4e8}}}
    limits = {"book": {"cash_delta": 1e10, "notional_concentration": 0.5},
              "underlyings": {"*": {"cash_delta": 4.5e9}, "510300.SH": {"cash_delta": 6e9}}}
    got = {(r["scope"], r["measure"]): (round(r["utilisation"], 4), r["status"]) for r in utilisation(totals, limits)}
    assert got == {("book", "cash_delta"): (0.9, "warning"), ("book", "notional_concentration"): (1.2, "breach"),
                   ("000300.SH", "cash_delta"): (1.1111, "breach"), ("510300.SH", "cash_delta"): (0.6667, "ok")}
