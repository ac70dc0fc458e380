"""``otclab quotes ...`` as a user runs it, and the settings' errors."""
from __future__ import annotations

import pytest

from otclab.cli.main import main
from otclab.workflows.quotes import service
from otclab.workflows.quotes.config import ConfigError, load_config

from quotes_support import AES_KEY, TOKEN, inbound


def _url(st):
    return st.url.render_as_string(hide_password=False)


def test_the_quote_commands(qstore, cfg, capsys, monkeypatch, tmp_path):
    url = _url(qstore)
    conf = tmp_path / "q.toml"
    conf.write_text(f'evidence_log = "{cfg.evidence_log}"\nfour_eyes_notional = 30000000\n', encoding="utf-8")
    monkeypatch.setenv("OTCLAB_QUOTES_CONFIG", str(conf))
    assert main(["quotes", "contacts", "add", "wx.sales9", "--counterparty-id", "CP009", "--name", "上海测试资产管理有限公司",
                 "--status", "pending", "--user", "ops", "--store", url]) == 0
    assert "wx.sales9 -> CP009 上海测试资产管理有限公司 (pending)" in capsys.readouterr().out
    assert main(["quotes", "contacts", "list", "--store", url]) == 0
    out = capsys.readouterr().out
    assert "client01" in out and "wx.sales9" in out and "blocked" in out
    service.receive(qstore, inbound("500 看涨 平值 3个月 名义5000万 期权费多少"))
    service.process_pending(qstore)
    (q,) = service.list_quotes(qstore)
    qid = q["quote_id"]
    assert main(["quotes", "list", "--store", url]) == 0
    out = capsys.readouterr().out
    assert qid in out and "pending_approval" in out and "4.37%" in out
    assert main(["quotes", "show", qid, "--store", url]) == 0
    out = capsys.readouterr().out
    assert "500 看涨 平值 3个月 名义5000万 期权费多少" in out and "engine analytic" in out
    assert "- -> received         by bot" in out and "-> pending_approval" in out and "a second approver is needed" in out
    assert main(["quotes", "approve", qid, "--user", "zhang.wei", "--store", url]) == 0
    assert "second approver different from zhang.wei" in capsys.readouterr().out
    assert main(["quotes", "approve", qid, "--user", "zhang.wei", "--store", url]) == 2
    assert capsys.readouterr().err.startswith("error: user: quote")
    assert main(["quotes", "approve", qid, "--user", "li.na", "--store", url]) == 0
    assert "approved by li.na; reply queued: 您好，上海晨星私募基金管理有限公司：" in capsys.readouterr().out
    assert main(["quotes", "accept", qid, "--user", "li.na", "--store", url]) == 0
    assert f"booked as trade Q-{qid}" in capsys.readouterr().out
    assert main(["quotes", "reject", qid, "--user", "li.na", "--reason", "late", "--store", url]) == 2
    assert "is booked; it cannot be rejected any more" in capsys.readouterr().err
    assert main(["quotes", "show", "Q404", "--store", url]) == 2
    assert "no quote 'Q404'" in capsys.readouterr().err


def test_settings_errors_name_the_field(tmp_path):
    with pytest.raises(ConfigError, match=r"token: is required by the callback server"):
        load_config(env={}, require_wecom=True)
    with pytest.raises(ConfigError, match=r"encoding_aes_key: must be the 43 characters"):
        load_config(env={"OTCLAB_WECOM_TOKEN": "t", "OTCLAB_WECOM_AES_KEY": "short"})
    with pytest.raises(ConfigError, match=r"validity_s: must be between 1 and 86400, got '-5'"):
        load_config(env={"OTCLAB_QUOTE_VALIDITY_S": "-5"}, require_wecom=False)
    bad = tmp_path / "q.toml"
    bad.write_text('validity = 5\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"validity: unknown setting 'validity'"):
        load_config(bad, env={}, require_wecom=False)
    bad.write_text('reply_template = "{client} {price}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"reply_template: unknown placeholder \{price\}; allowed: client"):
        load_config(bad, env={}, require_wecom=False)
    (tmp_path / "reply.txt").write_text("@{client} {quote}（{quote_id}）\n", encoding="utf-8")
    good = tmp_path / "ok.toml"
    good.write_text(f'token = "{TOKEN}"\nencoding_aes_key = "{AES_KEY}"\nreply_template_file = "reply.txt"\n'
                    'validity_s = 120\n', encoding="utf-8")
    c = load_config(good, env={"OTCLAB_QUOTE_FOUR_EYES_NOTIONAL": "50000000"})
    assert (c.reply_template, c.validity_s, c.four_eyes_notional) == ("@{client} {quote}（{quote_id}）", 120.0, 5e7)
