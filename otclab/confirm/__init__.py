"""Trade confirmations (交易确认书): generate, extract (docling text layer or RapidOCR), reconcile,
and the operations inbox. Heavy dependencies load inside the functions that need them.

They work on the one trade record (``otclab.store.record.TradeRecord``); ``trade.py`` reads a
trade's JSON and maps its terms to the fields a confirmation states, in one place.

Entry points: ``generate.render_confirmation``, ``extract.extract_file`` (in this process) and
``worker.Extractor`` (each file in a child process under deadlines: use it for files from
outside), ``reconcile.reconcile``, ``inbox.run_inbox``, ``trade.read_trade``; the reading limits
are in ``limits.Limits``.
"""
