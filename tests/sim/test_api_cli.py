"""``tamer sim`` as a process: the single ``ready`` line, the merged kubeconfig (TLS CA, two contexts,
other entries kept), the flavor's version, the restricted context, and a clean exit on SIGTERM/SIGINT."""

from __future__ import annotations

import base64
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tamer_tui.sim.kubeconfig import remove_entries, write_kubeconfig
from tests.services import kubectl_bin

ROOT = Path(__file__).resolve().parents[2]


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(timeout):
        raise AssertionError("tamer sim printed nothing in time")
    return proc.stdout.readline()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_tamer_sim_process(tmp_path: Path, sig: signal.Signals) -> None:
    """tamer sim prints one ready line, merges the kubeconfig, serves kubectl, and exits 0 on a signal."""
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "other", "cluster": {"server": "https://10.0.0.1:6443"}}],
                "users": [{"name": "other", "user": {"token": "x"}}],
                "contexts": [{"name": "other", "context": {"cluster": "other", "user": "other"}}],
                "current-context": "other",
            }
        )
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [
        sys.executable, "-m", "tamer_tui", "sim", "--port", "0", "--kubeconfig", str(kubeconfig),
        "--name", "simcli", "--flavor", "kind", "--pods", "12", "--namespaces", "2", "--nodes", "1",
    ]  # fmt: skip
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path
    )
    try:
        line = _read_line(proc, 90)
        parts = line.split()
        assert parts[0] == "ready" and len(parts) == 4, line
        assert (
            parts[1].startswith("https://127.0.0.1:") and parts[2] == str(kubeconfig) and parts[3] == "simcli"
        )

        cfg = yaml.safe_load(kubeconfig.read_text())
        contexts = {c["name"]: c["context"] for c in cfg["contexts"]}
        assert set(contexts) == {"other", "simcli", "simcli-restricted"}
        assert cfg["current-context"] == "other"
        assert contexts["simcli-restricted"]["namespace"] == "default"
        cluster = next(c["cluster"] for c in cfg["clusters"] if c["name"] == "simcli")
        assert cluster["server"] == parts[1]
        assert base64.b64decode(cluster["certificate-authority-data"]).startswith(
            b"-----BEGIN CERTIFICATE-----"
        )

        base = [kubectl_bin(), "--kubeconfig", str(kubeconfig), "--context"]
        kenv = {**os.environ, "KUBECACHEDIR": str(tmp_path / "cache"), "HOME": str(tmp_path)}
        out = subprocess.run(
            [*base, "simcli", "version", "-o", "json"], capture_output=True, text=True, timeout=60, env=kenv
        )
        assert json.loads(out.stdout)["serverVersion"]["gitVersion"] == "v1.31.4", out.stderr
        denied = subprocess.run(
            [*base, "simcli-restricted", "get", "nodes"], capture_output=True, text=True, timeout=60, env=kenv
        )
        assert denied.returncode != 0 and "forbidden" in denied.stderr

        started = time.monotonic()
        proc.send_signal(sig)
        rest, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0
        assert rest.strip() == ""  # exactly one line on stdout
        assert time.monotonic() - started < 15
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_kubeconfig_merge_and_remove(tmp_path: Path) -> None:
    """write_kubeconfig replaces its own entries, keeps others and sets current-context only when unset."""
    path = tmp_path / "kc"
    write_kubeconfig(path, "a", "https://127.0.0.1:1", b"CA", "tok-a", "rtok-a")
    write_kubeconfig(path, "b", "https://127.0.0.1:2", None, "tok-b", "rtok-b")
    write_kubeconfig(path, "a", "https://127.0.0.1:3", b"CA", "tok-a2", "rtok-a2")
    cfg = yaml.safe_load(path.read_text())
    assert [c["name"] for c in cfg["clusters"]] == ["b", "a"]
    assert cfg["current-context"] == "a"
    users = {u["name"]: u["user"]["token"] for u in cfg["users"]}
    assert users == {
        "b-admin": "tok-b",
        "b-restricted": "rtok-b",
        "a-admin": "tok-a2",
        "a-restricted": "rtok-a2",
    }
    assert next(c for c in cfg["clusters"] if c["name"] == "a")["cluster"]["server"] == "https://127.0.0.1:3"
    if sys.platform != "win32":
        assert (path.stat().st_mode & 0o777) == 0o600
    remove_entries(path, "a")
    cfg = yaml.safe_load(path.read_text())
    assert [c["name"] for c in cfg["contexts"]] == ["b", "b-restricted"] and cfg["current-context"] == ""
    remove_entries(path, "b")
    assert not path.exists()


def test_bad_flavor_is_rejected() -> None:
    """An unknown --flavor is refused by argparse before anything starts."""
    res = subprocess.run(
        [sys.executable, "-m", "tamer_tui", "sim", "--flavor", "openshift"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert res.returncode == 2 and "invalid choice" in res.stderr


def test_plain_http_mode(tmp_path: Path) -> None:
    """--no-tls serves http://; without a token requests act as admin (kubectl sends none over HTTP), a wrong token is 401."""
    import urllib.error
    import urllib.request

    from tamer_tui.sim.cluster import SimOptions
    from tamer_tui.sim.server import start_in_thread

    with start_in_thread(
        SimOptions(tls=False, pods=5, namespaces=1, nodes=1, kubeconfig=str(tmp_path / "kc"))
    ) as h:
        assert h.url.startswith("http://") and h.ca_pem is None
        cfg = yaml.safe_load((tmp_path / "kc").read_text())
        assert "certificate-authority-data" not in cfg["clusters"][0]["cluster"]
        with urllib.request.urlopen(h.url + "/api/v1/namespaces/kube-system/pods", timeout=30) as resp:
            assert json.loads(resp.read())["kind"] == "PodList"
        req = urllib.request.Request(h.url + "/api/v1/pods", headers={"Authorization": "Bearer wrong"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=30)
        assert err.value.code == 401
