"""Template governance: which payoff template versions may be booked and quoted.

A template version (its name and the content hash of its tagged cells, ``Template.version``)
moves draft → validated → approved → retired. Validation is a passing papermill run of that exact
version (``validation``, recorded in ``validation_runs``); approval is a second person holding
``otclab.access.TEMPLATE_APPROVE``, after risk control's independent template of the structure
was compared with the desk's on agreed cases (``comparisons``); every transition is an appended
``template_events`` row naming who, when and why (``registry``). Versions shipped in
``payoffs/approved.json`` are approved in every store (``manifest``). Booking and quoting call
``enforce.require_approved``.
"""
