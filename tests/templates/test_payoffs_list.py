"""``otclab payoffs list``: validation status from the data folder, not the working folder, in
labelled columns."""
import json
import os
import subprocess
import sys


def otclab(*args, data, cwd):
    env = {**os.environ, "OTCLAB_DATA": str(data)}
    return subprocess.run([sys.executable, "-m", "otclab", *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=600)


def test_validation_status_is_the_data_folders_whatever_the_working_folder(tmp_path):
    data, here, there = tmp_path / "data", tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    before = otclab("payoffs", "list", data=data, cwd=there)
    assert before.returncode == 0, before.stderr
    lines = before.stdout.splitlines()
    assert lines[0].split() == ["template", "version", "engines", "validation", "of", "this", "version",
                                "validated", "at", "(UTC)", "description"]
    vanilla = next(ln for ln in lines if ln.startswith("vanilla "))
    assert " never " in vanilla
    assert lines[-1] == f"validation records: {data / 'payoffs' / 'validations.jsonl'} (none yet: otclab payoffs validate)"

    proc = otclab("payoffs", "validate", "vanilla", data=data, cwd=here)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (data / "payoffs" / "validations.jsonl").exists() and not (here / "runs").exists()

    rows = {r["name"]: r for r in json.loads(otclab("payoffs", "list", "--json", data=data, cwd=there).stdout)}
    assert rows["vanilla"]["validated"] == "pass" and rows["vanilla"]["validated_at"].endswith("+00:00")
    assert rows["snowball"]["validated"] == "never" and rows["snowball"]["validated_at"] is None
    text = otclab("payoffs", "list", data=data, cwd=there).stdout
    vanilla = next(ln for ln in text.splitlines() if ln.startswith("vanilla "))
    assert " pass " in vanilla and rows["vanilla"]["validated_at"][:10] in vanilla
    assert text.splitlines()[-1] == f"validation records: {data / 'payoffs' / 'validations.jsonl'}"
