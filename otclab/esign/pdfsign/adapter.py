"""Bridge from our ``Signer`` interface to pyHanko's ``Signer``, so any backend can sign PDFs."""
from __future__ import annotations

from asn1crypto import algos
from pyhanko.sign.signers.pdf_cms import Signer as HankoSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

from ..errors import CertificateError
from ..pki.tsa import to_asn1_cert
from ..signer import PSS_SALT_LENGTH, Signer

_MECHANISMS = {
    "rsa-pss-sha256": lambda: algos.SignedDigestAlgorithm(
        {
            "algorithm": "rsassa_pss",
            "parameters": algos.RSASSAPSSParams(
                {
                    "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                    "mask_gen_algorithm": algos.MaskGenAlgorithm(
                        {"algorithm": "mgf1", "parameters": algos.DigestAlgorithm({"algorithm": "sha256"})}
                    ),
                    "salt_length": PSS_SALT_LENGTH,
                }
            ),
        }
    ),
    "rsa-pkcs1v15-sha256": lambda: algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
}


class HankoSignerAdapter(HankoSigner):
    """pyHanko signer that delegates the raw signature to an otclab ``Signer`` (SHA-256 only)."""

    def __init__(self, signer: Signer):
        try:
            mechanism = _MECHANISMS[signer.algorithm_id]()
        except KeyError:
            raise CertificateError(
                f"PDF signing does not support {signer.algorithm_id!r}; supported: {', '.join(_MECHANISMS)}",
                field="algorithm",
            ) from None
        chain = [to_asn1_cert(c) for c in signer.certificate_chain]
        self._otc_signer = signer
        super().__init__(
            signing_cert=chain[0],
            cert_registry=SimpleCertificateStore.from_certs(chain),
            signature_mechanism=mechanism,
            embed_roots=True,
        )

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if digest_algorithm.lower() != "sha256":
            raise CertificateError(f"digest {digest_algorithm} requested; only sha256 is supported", field="digest")
        return self._otc_signer.sign(data)
