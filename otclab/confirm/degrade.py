"""Turn a confirmation PDF into a realistic scan: an image-only PDF of degraded page images.

Operations paper goes through printers and scanners: pages come back slightly rotated, blurred,
noisy, JPEG-compressed and unevenly exposed, at 150-300 dpi. ``ScanDefects`` holds one such set
of defects; ``scan_pdf`` renders each page (pypdfium2), applies them (Pillow, numpy) and wraps the
images into a PDF with no text layer, which is what the OCR route has to read.
"""
from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ScanDefects:
    dpi: int = 200
    rotation_deg: float = 0.0
    blur_radius: float = 0.0
    noise_sigma: float = 0.0  # grey levels (0-255)
    jpeg_quality: int = 85
    exposure: float = 0.0  # strength of a brightness gradient across the page, 0-0.4
    grayscale: bool = True

    @classmethod
    def random(cls, rng: random.Random, severity: str = "office") -> "ScanDefects":
        """Defects drawn at random (seeded): ``office`` is what office scanners produce;
        ``hard`` is a stress setting beyond it (150 dpi, strong blur, noise and JPEG, 4° skew)."""
        turn = rng.choices([0, 90, 180, 270], weights=[85, 5, 5, 5])[0]  # fed sideways/upside down
        if severity == "hard":
            return cls(dpi=150, rotation_deg=turn + rng.uniform(-4, 4), blur_radius=rng.uniform(1.0, 1.5),
                       noise_sigma=rng.uniform(12, 20), jpeg_quality=rng.randint(20, 35), exposure=0.35,
                       grayscale=True)
        return cls(
            dpi=rng.choice([150, 200, 200, 300]),
            rotation_deg=turn + rng.choice([-1, 1]) * rng.uniform(0.3, 3.0),
            blur_radius=rng.uniform(0.0, 1.0),
            noise_sigma=rng.uniform(3.0, 14.0),
            jpeg_quality=rng.randint(35, 80),
            exposure=rng.uniform(0.05, 0.3),
            grayscale=rng.random() < 0.8,
        )


def degrade_image(img, d: ScanDefects, rng: random.Random):
    """Apply the defects to a PIL page image; returns the degraded PIL image."""
    import numpy as np
    from PIL import Image, ImageFilter

    img = img.convert("L" if d.grayscale else "RGB")
    fill = 255 if d.grayscale else (255, 255, 255)
    if d.rotation_deg:
        # a small skew stays inside the sheet; a page fed sideways or upside down turns whole
        img = img.rotate(d.rotation_deg, resample=Image.BICUBIC, expand=abs(d.rotation_deg) >= 45,
                         fillcolor=fill)
    if d.blur_radius > 0:
        img = img.filter(ImageFilter.GaussianBlur(d.blur_radius))
    a = np.asarray(img).astype(np.float32)
    h, w = a.shape[:2]
    if d.exposure:
        # a lamp brighter on one side: multiply by a linear ramp, darken the paper on the other
        angle = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:h, 0:w]
        ramp = (np.cos(angle) * xx / w + np.sin(angle) * yy / h)
        ramp = (ramp - ramp.min()) / max(ramp.max() - ramp.min(), 1e-9)
        gain = 1.0 - d.exposure * ramp
        a = a * (gain[..., None] if a.ndim == 3 else gain)
    if d.noise_sigma:
        nrng = np.random.default_rng(rng.randrange(2**32))
        a = a + nrng.normal(0.0, d.noise_sigma, a.shape)
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=d.jpeg_quality)
    buf.seek(0)
    return Image.open(buf)


def scan_pdf(src: str | Path, dst: str | Path, defects: ScanDefects, seed: int = 0) -> Path:
    """Write ``dst``: the pages of ``src`` as degraded scans in an image-only PDF."""
    import pypdfium2 as pdfium

    rng = random.Random(seed)
    pdf = pdfium.PdfDocument(str(src))
    try:
        images = [degrade_image(pdf[i].render(scale=defects.dpi / 72.0).to_pil(), defects, rng)
                  for i in range(len(pdf))]
    finally:
        pdf.close()
    dst = Path(dst)
    images[0].save(dst, format="PDF", save_all=True, append_images=images[1:], resolution=float(defects.dpi))
    return dst
