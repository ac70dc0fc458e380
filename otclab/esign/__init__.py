"""E-signing, encrypted exchange, evidence log and trade-repository reports (issue 6).

Sub-packages, each named for what it holds:

- ``pki``: keys and X.509 certificates (load PEM/PKCS#12, check purpose/validity/revocation,
  build a demo CA with signers, a timestamp authority and a CRL);
- ``signer``: the ``Signer`` interface every signing backend implements (RSA today, SM2 later);
- ``pdfsign``: PAdES signing and validation of PDFs with pyHanko (visible Chinese seal, RFC 3161
  timestamp, several signers);
- ``envelope``: AES-256-GCM + RSA-OAEP encrypted, RSA-PSS signed exchange messages with a replay
  window;
- ``evidence``: the append-only RFC 9162 Merkle evidence log with signed checkpoints;
- ``report``: trade-repository report records, JSON and FpML 5 export, and their validation.
"""
