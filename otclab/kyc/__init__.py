"""KYC onboarding (issue 15): invitation, the client's guided form, documents, suitability,
screening, the AML rating, the reviewers' case workflow, the sealed review report, and the client
master that booking and quoting check. Apps call ``otclab.kyc.service``; the rules are data in
``rules.toml``. See docs/kyc.md.
"""
