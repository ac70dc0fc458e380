"""The CUDA sources compile (CI has no GPU, but it may have nvcc): a typo in a kernel shows here,
not on the GPU machine. The fused kernel's source is filled in from the program's scalar table."""
import shutil
import subprocess

import pytest

from otclab.engines.fused.cuda import _SRC
from otclab.engines.fused.pde import _THOMAS
from otclab.engines.fused.program import COL, SCALARS


def sources():
    return {"fused_mc": _SRC % {"NS": len(SCALARS), **COL}, "cn_step": _THOMAS}


def test_the_fused_kernel_source_fills_in():
    src = sources()["fused_mc"]
    assert "%(" not in src and f"#define NS {len(SCALARS)}" in src


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc not installed")
@pytest.mark.parametrize("name", ["fused_mc", "cn_step"])
def test_the_kernels_compile_for_hopper(tmp_path, name):
    cu = tmp_path / f"{name}.cu"
    cu.write_text(sources()[name], encoding="utf-8")
    out = subprocess.run(["nvcc", "-arch=sm_90", "-std=c++14", "-ptx", str(cu), "-o", str(tmp_path / f"{name}.ptx")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert f".entry {name}" in (tmp_path / f"{name}.ptx").read_text()
