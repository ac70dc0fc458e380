"""Trade confirmations (交易确认书): generate, extract (docling text layer or RapidOCR), reconcile,
and the operations inbox. Heavy dependencies load inside the functions that need them.

Entry points: ``generate.render_confirmation``, ``extract.extract_file``,
``reconcile.reconcile``, ``inbox.run_inbox``.
"""
