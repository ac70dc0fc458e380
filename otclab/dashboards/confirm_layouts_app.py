"""The Panel page of the confirmation layout tool (``panel serve dashboards/confirm_layouts.py``,
or ``otclab dashboard confirm-layouts``); what it does lives in ``otclab.confirm.annotate``.

Operations upload one sample confirmation of a counterparty's new layout and see its phrases with
their positions; they pick a field, select the phrase that is its label and press "label", select
the phrase holding its value and press "value" (the value's position relative to the label is read
from where the two sit), choose the unit where it is not plain; the sample is read again with the
draft after every step, each field with its confidence and whether it would pass unattended. "Save"
writes the annotation file into operations' layout folder, which extraction reads: no code change.
A refusal (an unknown field, a draft that does not match its own sample) shows in the message bar.
"""
from __future__ import annotations

import html
import logging
import tempfile
from pathlib import Path

import pandas as pd
import panel as pn

from ..confirm import annotate, layouts as L
from ..core.errors import OtcError

log = logging.getLogger("otclab.dashboards.confirm_layouts")

CSS = """
.lt-head {font-size:16px; font-weight:600}
.lt-meta {font-size:12px; color:#556}
"""
PHRASE_COLUMNS = ["no", "text", "x0", "y0", "x1", "y1", "score", "label of"]
RESULT_COLUMNS = ["field", "value", "confidence", "threshold", "accepted", "label", "unit", "position"]


def _fields():
    from ..confirm.extract import FIELDS

    return list(FIELDS)


class LayoutToolPage:
    """One browser session's tool. ``folder``: where layouts are saved (default operations'
    folder, ``layouts.ops_dir()``); ``samples``: where uploaded samples are kept (default
    ``folder/samples``); ``identity``: the logged-in user (``otclab.access.Identity``; saving
    needs one of the operations group, and names them in the folder's history)."""

    def __init__(self, folder: str | Path | None = None, samples: str | Path | None = None, identity=None):
        pn.extension("tabulator", notifications=True, raw_css=[CSS])
        self.identity = identity
        self.folder = Path(folder) if folder is not None else L.ops_dir()
        self.samples = Path(samples) if samples is not None else self.folder / "samples"
        self.session: annotate.Session | None = None
        self.upload = pn.widgets.FileInput(accept=".pdf", css_classes=["lt-upload"], multiple=False)
        self.upload.param.watch(self._on_upload, "value")
        self.sample_info = pn.pane.HTML("Upload one sample confirmation (PDF, text or scan) 上传一份样本确认书",
                                        css_classes=["lt-sample"], sizing_mode="stretch_width")
        self.phrases = pn.widgets.Tabulator(pd.DataFrame(columns=PHRASE_COLUMNS), show_index=False, selectable=1,
                                            disabled=True, height=460, layout="fit_data_table",
                                            sizing_mode="stretch_width", css_classes=["lt-phrases"], pagination=None)
        self.field = pn.widgets.Select(name="field 字段", options=_fields(), css_classes=["lt-field"], width=180)
        self.unit = pn.widgets.Select(name="unit 单位", options=["auto"], css_classes=["lt-unit"], width=150)
        self.field.param.watch(lambda _e: self._units(), "value")
        self._units()
        self.label_btn = pn.widgets.Button(label="Selected phrase is the label 设为标签", button_type="primary",
                                           css_classes=["lt-set-label"])
        self.value_btn = pn.widgets.Button(label="Selected phrase is the value 设为取值", css_classes=["lt-set-value"])
        self.unit_btn = pn.widgets.Button(label="Set unit 设定单位", css_classes=["lt-set-unit"])
        self.remove_btn = pn.widgets.Button(label="Remove field 移除", button_type="warning", css_classes=["lt-remove"])
        self.layout_id = pn.widgets.TextInput(name="layout id 版式编号", placeholder="e.g. acme-form-3",
                                              css_classes=["lt-id"], width=220)
        self.counterparty = pn.widgets.TextInput(name="counterparty 交易对手", css_classes=["lt-counterparty"], width=320)
        self.markers = pn.widgets.TextInput(name="markers 识别短语 (separated by ;)", css_classes=["lt-markers"],
                                            width=420)
        self.save_btn = pn.widgets.Button(label="Save layout 保存版式", button_type="success", css_classes=["lt-save"])
        self.results = pn.widgets.Tabulator(pd.DataFrame(columns=RESULT_COLUMNS), show_index=False, disabled=True,
                                            layout="fit_data_table", sizing_mode="stretch_width",
                                            css_classes=["lt-results"], pagination=None)
        self.used = pn.pane.HTML("", css_classes=["lt-used"])
        self.message = pn.pane.Alert("", alert_type="light", visible=False, css_classes=["lt-message"],
                                     sizing_mode="stretch_width")
        self.label_btn.on_click(lambda _e: self._act(self._set_label))
        self.value_btn.on_click(lambda _e: self._act(self._set_value))
        self.unit_btn.on_click(lambda _e: self._act(self._set_unit))
        self.remove_btn.on_click(lambda _e: self._act(self._remove))
        self.save_btn.on_click(lambda _e: self._act(self._save))
        for w in (self.layout_id, self.counterparty, self.markers):
            w.param.watch(lambda _e: self._act(self._meta, quiet=True), "value")
        self.view = pn.Column(
            pn.pane.HTML("确认书版式标注 Confirmation layout tool", css_classes=["lt-head"]),
            pn.pane.HTML(f"layouts are saved in {html.escape(str(self.folder))} · "
                         + (f'<b class="lt-user">{html.escape(identity.name)}</b>' if identity else
                            '<b class="lt-user-none">not logged in: saving is refused</b>'),
                         css_classes=["lt-meta"]),
            pn.Row(self.upload, self.sample_info, sizing_mode="stretch_width"),
            self.message,
            pn.Row(
                pn.Column("#### 样本文字 Phrases of the sample (select one)", self.phrases, sizing_mode="stretch_width"),
                pn.Column("#### 标注 Annotate",
                          pn.Row(self.field, self.unit),
                          pn.Row(self.label_btn, self.value_btn),
                          pn.Row(self.unit_btn, self.remove_btn),
                          self.layout_id, self.counterparty, self.markers, self.save_btn, width=460),
                sizing_mode="stretch_width"),
            "#### 按草稿重新提取 The sample read with the draft", self.used, self.results,
            sizing_mode="stretch_width")

    # ------------------------------------------------------------------ actions

    def _units(self) -> None:
        self.unit.options = list(L.FIELD_UNITS.get(self.field.value, ("auto",)))
        self.unit.value = "auto"

    def _say(self, text: str, kind: str = "success") -> None:
        self.message.object = text
        self.message.alert_type = kind
        self.message.visible = True

    def _act(self, fn, quiet: bool = False) -> None:
        """Run one user action; a user error becomes the message, never a traceback."""
        try:
            fn()
        except OtcError as exc:
            if not quiet:
                self._say(str(exc), "danger")
        except Exception as exc:  # a sample the readers fail on: say so, keep the page usable
            log.exception("layout tool action failed")
            self._say(f"{type(exc).__name__}: {exc}", "danger")

    def _need_session(self) -> annotate.Session:
        if self.session is None:
            raise OtcError("upload a sample confirmation first", field="sample")
        return self.session

    def _selected(self) -> int:
        sel = self.phrases.selection
        if not sel:
            raise OtcError("select a phrase in the table first", field="phrase")
        return int(self.phrases.value.iloc[sel[0]]["no"])

    def _on_upload(self, _e) -> None:
        if not self.upload.value:
            return

        def load():
            name = Path(self.upload.filename or "sample.pdf").name
            with tempfile.TemporaryDirectory(prefix="otclab_layout_") as tmp:
                path = Path(tmp) / name
                path.write_bytes(self.upload.value)
                self.session = annotate.Session(path, samples=self.samples)
            s = self.session
            s.draft.id = self.layout_id.value.strip()
            s.draft.counterparty = self.counterparty.value.strip()
            if self.markers.value.strip():
                s.draft.markers = self._marker_list()
            else:
                self.markers.value = "; ".join(s.draft.markers)
            self.sample_info.object = (f"<span class='lt-sample-name'>{html.escape(name)}</span>: {len(s.pages)} page(s), route "
                                       f"<b class='lt-route'>{s.route}</b>, {len(s.phrases)} phrases on page 1")
            self._refresh()
            self._say(f"{name} read; select a phrase, pick its field, press 'label'", "info")
        self._act(load)

    def _marker_list(self) -> list[str]:
        return [m.strip() for m in self.markers.value.replace("；", ";").split(";") if m.strip()]

    def _meta(self) -> None:
        s = self._need_session()
        s.draft.id = self.layout_id.value.strip()
        s.draft.counterparty = self.counterparty.value.strip()
        s.draft.markers = self._marker_list()
        self._refresh()

    def _set_label(self) -> None:
        s = self._need_session()
        lbl = s.pick_label(self.field.value, self._selected(), self.unit.value)
        self._refresh()
        self._say(f"{self.field.value}: label {lbl!r}")

    def _set_value(self) -> None:
        s = self._need_session()
        pos = s.pick_value(self.field.value, self._selected())
        self._refresh()
        self._say(f"{self.field.value}: value {pos} of its label")

    def _set_unit(self) -> None:
        s = self._need_session()
        s.draft.set_unit(self.field.value, self.unit.value)
        self._refresh()
        self._say(f"{self.field.value}: unit {self.unit.value}")

    def _remove(self) -> None:
        s = self._need_session()
        s.draft.remove(self.field.value)
        self._refresh()
        self._say(f"{self.field.value}: removed from the draft")

    def _save(self) -> None:
        s = self._need_session()
        if self.identity is None:
            raise OtcError("log in to save a layout: it changes how every confirmation of the counterparty is "
                           "read, so each save names who made it", "user")
        L.check_saver(self.identity)
        s.draft.id, s.draft.counterparty = self.layout_id.value.strip(), self.counterparty.value.strip()
        s.draft.markers = self._marker_list()
        path = s.save(self.folder, by=self.identity)
        self._say(f"saved {path} by {self.identity.name}")
        self.message.css_classes = ["lt-message", "lt-saved"]

    def _refresh(self) -> None:
        """Phrases (with the field each is the label of) and the sample re-read with the draft."""
        s = self.session
        if s is None:
            return
        sel = self.phrases.selection
        self.phrases.value = pd.DataFrame(s.rows(), columns=PHRASE_COLUMNS)
        self.phrases.selection = sel
        reading = s.extract()
        rows = [{**r, "confidence": "" if r["confidence"] is None else f"{r['confidence']:.3f}",
                 "accepted": "" if r["value"] == "" else "yes" if r["accepted"] else "BREAK (a person checks)"}
                for r in s.result_rows(reading)]
        self.results.value = pd.DataFrame(rows, columns=RESULT_COLUMNS)
        ex = reading[0]
        used = f"annotated layout <b class='lt-layout'>{ex.layout}</b>" if ex.layout else \
            "<b class='lt-layout'>generic extractor</b> (the draft is not a complete layout yet, or does not match)"
        notes = html.escape("; ".join(ex.warnings[:4]))
        self.used.object = f"<div class='lt-used-text'>read with the {used}{'; ' + notes if notes else ''}</div>"

    def servable(self):
        return self.view.servable(title="Confirmation layouts")
