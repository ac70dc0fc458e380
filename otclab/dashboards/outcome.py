"""How a Panel page tells its user what an action did: the page's message bar and, when the page
has them, a notification (green for done, red for refused, which stays longer to be read)."""
from __future__ import annotations


def show_outcome(message, ok: bool, text: str, error_ms: int = 8000) -> None:
    """Show ``text`` in the ``message`` bar (a ``pn.pane.Alert``) and as a notification."""
    import panel as pn

    message.object = text
    message.alert_type = "success" if ok else "danger"
    message.visible = True
    n = pn.state.notifications
    if n is not None:
        (n.success if ok else n.error)(text, duration=4000 if ok else error_ms)
