"""The quote workflow (issue 14): a WeCom chat request in, a priced, approved quote out.

``inbox`` persists what WeCom delivers; ``process`` claims each message once, maps the sender to a
counterparty, parses and prices it (``pricer``) into quotes pending approval, or answers with a
refusal or a clarifying question; ``approval`` (four-eyes), ``reply`` (the Chinese text),
``outbound_worker`` (the persisted reply queue), ``expiry``, ``accept`` (booking) and
``corrections`` (traders' edits, the parser's training examples) move quotes through the states
of ``states``, each transition also written to the evidence log (``evidence``). ``service`` holds
the functions the CLI and the Panel app call and the server that runs it all.
"""
