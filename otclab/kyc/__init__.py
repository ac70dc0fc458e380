"""KYC onboarding (issue 15): invitation, the client's guided form, documents, suitability,
screening, the AML rating, the reviewers' case workflow, the sealed review report, the agreements
the client signs online, and the client master that booking and quoting check. Apps call
``otclab.kyc.service``; the rules are data in ``rules.toml``, the agreements in
``data/agreements.toml``. See docs/kyc.md.
"""
