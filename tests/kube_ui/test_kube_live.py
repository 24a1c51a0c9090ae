"""The Kubernetes screens against `tamer sim`, changed by the real kubectl: everything is live."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.kube_ui.conftest import kube_app, kubectl, wait_rows
from tests.ui.conftest import wait_daemon, wait_for


def _names(app: Any) -> set[str]:
    return {r.name for r in app.screen.store.rows.values()}


async def test_pods_table_counts_and_deletion(sim: Any) -> None:
    """`-c "pods -A"` lists every pod (title count = kubectl's); a pod deleted with kubectl vanishes
    without any key press."""
    app = kube_app(sim)
    total = len(json.loads(kubectl(sim, "get", "pods", "-A", "-o", "json").stdout)["items"])
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_rows(app, pilot, lambda s: len(s.store) == total)
        assert f"pods(all)[{total}]" in app.screen.title_text
        victim = sorted(app.screen.store.rows.values(), key=lambda r: r.key)[0]
        kubectl(sim, "delete", "pod", "-n", victim.namespace, victim.name, "--wait=false")
        await wait_for(lambda: getattr(app.screen.store.rows.get(victim.key), "uid", None) != victim.uid, pilot,
                       timeout=15)


async def test_rollout_restart_replaces_pods(sim: Any) -> None:
    """`r` on a deployment restarts it: new pods appear in its pods view and the old ones go away."""
    app = kube_app(sim, command="deploy -A")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_rows(app, pilot)
        dep = next(r for r in app.screen.store.rows.values() if r.cells[0].split("/")[0] not in ("0",))
        assert app.screen.table.select_key(dep.key)
        await pilot.press("enter")
        await wait_rows(app, pilot, lambda s: s.label_selector is not None)
        before = _names(app)
        assert before
        await pilot.press("escape")
        await wait_for(lambda: "deployments" in app.screen.title_text, pilot)
        assert app.screen.table.select_key(dep.key)
        await pilot.press("r")
        await wait_daemon(lambda: "restartedAt" in kubectl(sim, "get", "deploy", "-n", dep.namespace, dep.name,
                                                            "-o", "json").stdout)
        await pilot.press("enter")
        await wait_rows(app, pilot, lambda s: s.label_selector is not None)
        await wait_for(lambda: _names(app) and not (_names(app) & before), pilot, timeout=30)


async def test_scale_with_prompt(sim: Any) -> None:
    """`s` on a deployment asks for replicas and the cluster's spec.replicas changes."""
    app = kube_app(sim, command="deploy -A")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_rows(app, pilot)
        dep = sorted(app.screen.store.rows.values(), key=lambda r: r.key)[0]
        assert app.screen.table.select_key(dep.key)
        await pilot.press("s")
        await wait_for(lambda: type(app.screen).__name__ == "PromptScreen", pilot)
        await pilot.press("4", "enter")

        def replicas() -> int:
            out = kubectl(sim, "get", "deploy", "-n", dep.namespace, dep.name, "-o", "jsonpath={.spec.replicas}")
            return int(out.stdout or 0)

        await wait_daemon(lambda: replicas() == 4, timeout=15)
        await wait_for(lambda: app.screen.store.rows[dep.key].cells[0].endswith("/4"), pilot, timeout=15)


async def test_readonly_refuses_delete_and_scale(sim: Any) -> None:
    """--readonly: ctrl+d and `:scale` are refused before reaching the cluster."""
    app = kube_app(sim, command="deploy -A", readonly=True)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_rows(app, pilot)
        dep = sorted(app.screen.store.rows.values(), key=lambda r: r.key)[0]
        assert app.screen.table.select_key(dep.key)
        await pilot.press("ctrl+d")
        await pilot.pause(0.3)
        assert "read-only" in app.last_result
        assert type(app.screen).__name__ == "KubeResourceScreen"
        await pilot.press("colon", *f"scale deploy/{dep.namespace}/{dep.name} 9", "enter")
        await wait_for(lambda: "read-only" in app.last_result, pilot)
        out = kubectl(sim, "get", "deploy", "-n", dep.namespace, dep.name, "-o", "jsonpath={.spec.replicas}")
        assert out.stdout != "9"


async def test_delete_pod_with_confirm(sim: Any) -> None:
    """`:delete pod/NS/NAME` asks, and `y` deletes it on the cluster."""
    app = kube_app(sim, command="pods -A")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_rows(app, pilot)
        pod = sorted(app.screen.store.rows.values(), key=lambda r: r.key)[-1]
        await pilot.press("colon", *f"delete pod/{pod.namespace}/{pod.name}", "enter")
        await wait_for(lambda: type(app.screen).__name__ == "ConfirmScreen", pilot)
        await pilot.press("y")
        # gone, or (StatefulSet pods keep their name) replaced by a new object with another uid
        await wait_for(lambda: getattr(app.screen.store.rows.get(pod.key), "uid", None) != pod.uid, pilot, timeout=15)


async def test_restricted_user_sees_403_and_works_in_default(sim: Any) -> None:
    """The restricted context gets a clear 'forbidden' on all namespaces but its namespace still lists."""
    app = kube_app(sim, command="pods -A", context=sim.restricted_context)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(lambda: app.screen.source_state.get(sim.restricted_context) == "forbidden", pilot, timeout=15)
        assert "forbidden" in app.screen.title_text
        assert "forbidden" in app.screen._status_text
        await pilot.press("colon", *"pods -n default", "enter")
        await wait_for(lambda: "pods(default)" in app.screen.title_text
                       and app.screen.source_state.get(sim.restricted_context) == "live", pilot, timeout=15)


async def test_unreachable_context_never_freezes(sim: Any, tmp_path: Any) -> None:
    """A context whose server accepts connections and never answers: the contexts screen stays
    responsive (keys answered) while its probe hangs, and shows it unreachable after the timeout."""
    async def black_hole(reader: Any, writer: Any) -> None:
        await asyncio.sleep(3600)

    server = await asyncio.start_server(black_hole, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    import yaml

    cfg = yaml.safe_load(Path(sim.kubeconfig).read_text())
    cfg["clusters"].append({"name": "dead", "cluster": {"server": f"https://127.0.0.1:{port}",
                                                         "insecure-skip-tls-verify": True}})
    cfg["contexts"].append({"name": "dead", "context": {"cluster": "dead", "user": cfg["users"][0]["name"]}})
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    app = kube_app(sim, command="ctx", kubeconfig=str(path))
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_for(lambda: type(app.screen).__name__ == "ContextsScreen", pilot)
            from textual.widgets import DataTable

            table = app.screen.query_one(DataTable)
            row = list(app.kube.contexts).index("dead")
            assert "probing" in [str(c) for c in table.get_row_at(row)][-1]
            await pilot.press("down")
            await pilot.press("up")
            await pilot.pause(0.1)
            assert "probing" in [str(c) for c in table.get_row_at(row)][-1]  # still hanging, yet keys were answered
            await wait_for(lambda: "unreachable" in [str(c) for c in table.get_row_at(row)][-1], pilot, timeout=10)
            live_row = list(app.kube.contexts).index(sim.context)
            await wait_for(lambda: [str(c) for c in table.get_row_at(live_row)][-1] == "reachable", pilot, timeout=10)
            assert [str(c) for c in table.get_row_at(live_row)][4] == "k3s"
    finally:
        server.close()


async def test_secret_values_masked_until_revealed(sim: Any) -> None:
    """`:reveal secret/NS/NAME` shows masked values; `x` reveals the decoded value."""
    kubectl(sim, "create", "secret", "generic", "tamer-test-secret", "-n", "default", "--from-literal=password=s3cr3t",
            check=False)
    app = kube_app(sim, command="secrets -n default")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_rows(app, pilot)
        await pilot.press("colon", *"reveal secret/default/tamer-test-secret", "enter")
        await wait_for(lambda: type(app.screen).__name__ == "SecretScreen", pilot)
        from textual.widgets import DataTable

        table = app.screen.query_one(DataTable)
        assert [str(c) for c in table.get_row_at(0)] == ["password", "••••••••"]
        await pilot.press("x")
        await wait_for(lambda: [str(c) for c in table.get_row_at(0)] == ["password", "s3cr3t"], pilot)
        await pilot.press("escape")
        await pilot.press("colon", *"yaml secret/default/tamer-test-secret", "enter")
        await wait_for(lambda: type(app.screen).__name__ == "InspectScreen", pilot)
        assert "s3cr3t" not in app.screen.query_one("TextArea").text
        assert "czNjcjN0" not in app.screen.query_one("TextArea").text


async def test_node_cordon_and_pods_on_node(sim: Any) -> None:
    """`c` cordons a node (spec.unschedulable), `u` uncordons; enter lists the pods on that node."""
    app = kube_app(sim, command="nodes")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_rows(app, pilot)
        node = sorted(app.screen.store.rows.values(), key=lambda r: r.key)[0]
        assert app.screen.table.select_key(node.key)
        await pilot.press("c")

        def unschedulable() -> str:
            return kubectl(sim, "get", "node", node.name, "-o", "jsonpath={.spec.unschedulable}").stdout

        await wait_daemon(lambda: unschedulable() == "true")
        await wait_for(lambda: "SchedulingDisabled" in app.screen.store.rows[node.key].cells[0], pilot)
        await pilot.press("u")
        await wait_daemon(lambda: unschedulable() in ("", "false"))
        await pilot.press("enter")
        await wait_rows(app, pilot, lambda s: s.field_selector == f"spec.nodeName={node.name}")
        assert all(r.node == node.name for r in app.screen.store.rows.values())


async def test_describe_has_events(sim: Any) -> None:
    """`d` on a pod shows a kubectl-like describe including the pod's events."""
    app = kube_app(sim, command="pods -A")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_rows(app, pilot)
        pod = sorted(app.screen.store.rows.values(), key=lambda r: r.key)[0]
        assert app.screen.table.select_key(pod.key)
        await pilot.press("d")
        await wait_for(lambda: type(app.screen).__name__ == "TextScreen", pilot)
        text = app.screen.text
        assert f"Name:               {pod.name}" in text and "Containers:" in text and "Events:" in text


async def test_metrics_columns_faults_and_owner(sim: Any) -> None:
    """Pods get CPU/MEM/%CPU/R columns from metrics.k8s.io; ctrl+z shows only faulty pods; J jumps
    from a pod to its ReplicaSet with the row selected; `o` jumps to the pod's node."""
    app = kube_app(sim, command="pods -A")
    async with app.run_test(size=(200, 40)) as pilot:
        await wait_rows(app, pilot)
        await wait_for(lambda: app.screen.metrics is not None, pilot, timeout=15)
        titles = [c.title for c in app.screen.table.columns]
        assert titles[:9] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "CPU", "MEM", "%CPU/R", "%CPU/L"]
        header = app.screen.table.render_line(0).text
        assert "%MEM/L" in header
        total = len(app.screen.table.keys)
        await pilot.press("ctrl+z")
        await wait_for(lambda: "[faults]" in app.screen.title_text, pilot)
        faulty = [app.screen.store.rows[k] for k in app.screen.table.keys]
        assert len(faulty) < total and all(r.faulty for r in faulty)
        await pilot.press("ctrl+z")
        pod = next(r for r in app.screen.store.rows.values() if r.owner.startswith("ReplicaSet/"))
        assert app.screen.table.select_key(pod.key)
        await pilot.press("J")
        rs_name = pod.owner.split("/", 1)[1]
        await wait_for(lambda: "replicasets" in app.screen.title_text and app.screen.table.cursor_row is not None
                       and app.screen.table.cursor_row.name == rs_name, pilot, timeout=15)
        await pilot.press("escape")
        await wait_for(lambda: "pods(all)" in app.screen.title_text, pilot)
        assert app.screen.table.select_key(pod.key)
        await pilot.press("o")
        await wait_for(lambda: "nodes(cluster)" in app.screen.title_text and app.screen.table.cursor_row is not None
                       and app.screen.table.cursor_row.name == pod.node, pilot, timeout=15)


async def test_events_newest_first(sim: Any) -> None:
    """`:events -A` lists events sorted by last seen, newest first."""
    app = kube_app(sim, command="events -A")
    async with app.run_test(size=(200, 40)) as pilot:
        await wait_rows(app, pilot)
        rows = [app.screen.store.rows[k] for k in app.screen.table.keys]
        seen = [r.cells[5] for r in rows]
        assert seen == sorted(seen, reverse=True)


async def test_dashboard_is_live(sim: Any) -> None:
    """`:dashboard` summarises nodes, pods by status, degraded workloads and warnings; a node cordoned
    with kubectl shows up there as SchedulingDisabled without a key press."""
    app = kube_app(sim, command="dashboard")
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_for(lambda: type(app.screen).__name__ == "DashboardScreen", pilot)
        await wait_for(lambda: app.screen.summary.pods_total > 0 and len(app.screen.summary.nodes) == 3, pilot,
                       timeout=15)
        s = app.screen.summary
        total = len(json.loads(kubectl(sim, "get", "pods", "-A", "-o", "json").stdout)["items"])
        assert abs(s.pods_total - total) <= 5  # controllers may be replacing a pod or two
        assert sum(c for _, c in s.pods_by_status) == s.pods_total
        assert s.nodes_ready == 3
        node = s.nodes[0].name
        kubectl(sim, "cordon", node)
        await wait_for(lambda: any(n.name == node and "SchedulingDisabled" in n.status for n in app.screen.summary.nodes),
                       pilot, timeout=15)
        kubectl(sim, "uncordon", node)


async def test_drain_evicts_but_keeps_daemonset_pods(sim: Any) -> None:
    """`r` on a node asks, cordons it and evicts its pods; DaemonSet pods stay; uncordon afterwards."""
    app = kube_app(sim, command="nodes")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_rows(app, pilot)
        node = sorted(app.screen.store.rows.values(), key=lambda r: r.key)[-1]

        def pods_on_node() -> list[dict[str, Any]]:
            out = kubectl(sim, "get", "pods", "-A", "--field-selector", f"spec.nodeName={node.name}", "-o", "json")
            return list(json.loads(out.stdout)["items"])

        before = pods_on_node()
        assert app.screen.table.select_key(node.key)
        await pilot.press("r")
        await wait_for(lambda: type(app.screen).__name__ == "ConfirmScreen", pilot)
        await pilot.press("y")
        await wait_for(lambda: app.last_result.startswith("drained"), pilot, timeout=20)
        assert kubectl(sim, "get", "node", node.name, "-o", "jsonpath={.spec.unschedulable}").stdout == "true"
        left = pods_on_node()
        assert all(any(o["kind"] == "DaemonSet" for o in p["metadata"].get("ownerReferences", [])) for p in left)
        assert len(left) < len(before) or not before
        kubectl(sim, "uncordon", node.name)


async def test_readonly_context_and_namespace_keys(sim: Any) -> None:
    """A context listed as read-only refuses mutations even without --readonly; keys 1-9 switch to
    favorite namespaces."""
    from tamer_tui.core.kube.manager import KubeManager

    app = kube_app(sim, command="deploy -n default")
    km = KubeManager(kubeconfig=sim.kubeconfig, context=sim.context,
                     readonly_contexts=frozenset({sim.context}), favorite_namespaces={sim.context: ["kube-system"]})
    km.load()
    app.session.kube = km
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_rows(app, pilot)
        dep = sorted(app.screen.store.rows.values(), key=lambda r: r.key)[0]
        await pilot.press("colon", *f"scale deploy/{dep.namespace}/{dep.name} 7", "enter")
        await wait_for(lambda: "read-only context" in app.last_result, pilot)
        await pilot.press("1")
        await wait_for(lambda: "deployments(kube-system)" in app.screen.title_text, pilot)
        await pilot.press("2")  # the most recent namespace after the favorite: default
        await wait_for(lambda: "deployments(default)" in app.screen.title_text, pilot)


async def test_found_k3s_kubeconfig_offered_and_imported(sim: Any, tmp_path: Any) -> None:
    """A k3s kubeconfig that is not merged is listed on :ctx; `i` merges it (with a backup) and its
    context appears, probed reachable."""
    import shutil

    from tamer_tui.sim.cluster import SimOptions
    from tamer_tui.sim.server import start_in_thread

    other = start_in_thread(SimOptions(name="found-k3s", pods=5, namespaces=1, nodes=1,
                                       kubeconfig=str(tmp_path / "k3s.yaml")))
    mine = tmp_path / "config"
    shutil.copy(sim.kubeconfig, mine)
    try:
        app = kube_app(sim, command="ctx", kubeconfig=str(mine))
        app.session.kube.discovery_options = {"k3s_path": tmp_path / "k3s.yaml", "home": tmp_path,
                                              "env": {"HOME": str(tmp_path)}}
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_for(lambda: type(app.screen).__name__ == "ContextsScreen", pilot)
            await wait_for(lambda: any(f.kind == "k3s" and f.importable for f in getattr(app.screen, "found", [])),
                           pilot, timeout=15)
            index = next(i for i, f in enumerate(app.screen.found) if f.kind == "k3s")
            from textual.widgets import DataTable

            app.screen.query_one("#found-table", DataTable).move_cursor(row=index)
            await pilot.press("i")
            await wait_for(lambda: "found-k3s" in "".join(app.kube.contexts), pilot, timeout=15)
            assert list(tmp_path.glob("config.bak-*"))
            new = next(n for n in app.kube.contexts if "found-k3s" in n and "restricted" not in n)
            await wait_for(lambda: app.kube.contexts[new].reachable is True, pilot, timeout=15)
    finally:
        other.stop()


async def test_node_describe_has_capacity_and_usage(sim: Any) -> None:
    """`d` on a node: capacity / allocatable / requested / used (metrics.k8s.io), conditions, taints."""
    app = kube_app(sim, command="nodes")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_rows(app, pilot)
        node = sorted(app.screen.store.rows.values(), key=lambda r: r.key)[0]
        assert app.screen.table.select_key(node.key)
        await pilot.press("d")
        await wait_for(lambda: type(app.screen).__name__ == "TextScreen", pilot, timeout=15)
        text = app.screen.text
        assert "Resources (capacity / allocatable / requested by pods / used now):" in text
        assert "n/a (no metrics" not in text  # the simulator serves metrics.k8s.io
        assert "Conditions:" in text and "Taints:" in text and "Allocatable:" in text


async def test_pod_logs_follow(sim: Any) -> None:
    """`l` on the chatty pod streams its logs (the simulator writes thousands of lines a second)
    into the bounded view; `:logs pod/NS/NAME/CONTAINER` works from command mode too."""
    app = kube_app(sim, command="pods -n default")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_rows(app, pilot)
        pod = next(r for r in app.screen.store.rows.values() if r.name.startswith("chatty"))
        assert app.screen.table.select_key(pod.key)
        await pilot.press("l")
        await wait_for(lambda: type(app.screen).__name__ == "LogsScreen", pilot)
        await wait_for(lambda: app.screen.buffer.received > 2000, pilot, timeout=15)
        assert "streaming" in app.screen.view.border_title
        await pilot.press("escape")
        web = next(r for r in app.screen.store.rows.values() if r.name.startswith("web"))
        containers = json.loads(kubectl(sim, "get", "pod", "-n", "default", web.name, "-o", "json").stdout)
        cname = containers["spec"]["containers"][-1]["name"]
        await pilot.press("colon", *f"logs pod/default/{web.name}/{cname} --tail=5", "enter")
        await wait_for(lambda: type(app.screen).__name__ == "LogsScreen" and len(app.screen.buffer) >= 5, pilot,
                       timeout=15)
        assert cname in app.screen.view.border_title


async def test_deployment_logs_aggregate_its_pods(sim: Any) -> None:
    """`l` on a Deployment opens one stream over all its pods, each line prefixed with its pod; search works on it."""
    app = kube_app(sim, command="deploy -n default")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_rows(app, pilot)
        web = next(r for r in app.screen.store.rows.values() if r.name == "web")
        assert app.screen.table.select_key(web.key)
        await pilot.press("l")
        await wait_for(lambda: type(app.screen).__name__ == "LogsScreen", pilot)
        screen = app.screen
        pods = json.loads(kubectl(sim, "get", "pods", "-n", "default", "-l", "app=web", "-o", "json").stdout)["items"]
        running = {p["metadata"]["name"] for p in pods if p["status"].get("phase") == "Running"}
        assert len(running) >= 2
        await wait_for(lambda: {s.split("/")[0] for s in screen.buffer.sources} >= running, pilot, timeout=15)
        assert screen.session.aggregated and screen.view.aggregated
        assert screen.log_title == "deploy/default/web"
        first = screen.view.render_line(0).text
        assert any(first.startswith(name[:28]) for name in screen.buffer.sources)


async def test_port_forward_from_command_mode_and_screen(sim: Any) -> None:
    """`:pf svc/default/web 0:80` starts a forward on a free port that answers real HTTP from a web pod;
    `:pf` lists it as active with its traffic; ctrl+d on the row stops it and the port is closed."""
    import socket
    import urllib.request

    app = kube_app(sim, command="pods -n default")
    async with app.run_test(size=(180, 40)) as pilot:
        await wait_rows(app, pilot)
        await pilot.press("colon", *"pf svc/default/web 0:80", "enter")
        await wait_for(lambda: "-> http://127.0.0.1:" in app.last_result, pilot, timeout=15)
        fwd = app.forwards.list()[0]
        url = fwd.url
        assert url in app.last_result and str(fwd.state) == "active"
        body = await asyncio.to_thread(lambda: urllib.request.urlopen(url + "/hello", timeout=10).read().decode())
        assert "web-" in body and "/hello" in body
        await pilot.press("colon", *"pf", "enter")
        await wait_for(lambda: type(app.screen).__name__ == "PortForwardsScreen", pilot)
        table = app.screen.table
        await wait_for(lambda: table.row_count == 1, pilot)
        row = [str(c) for c in table.get_row_at(0)]
        assert row[2] == "svc/default/web" and row[4] == url and row[6] == "active"
        await pilot.press("ctrl+d")
        await wait_for(lambda: str(fwd.state) == "stopped", pilot, timeout=10)
        port = int(url.rsplit(":", 1)[1])
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
            pass


async def test_exec_output_pane_and_container_picker(sim: Any) -> None:
    """`:exec pod/NS/NAME -- argv` on a multi-container pod asks which container, runs the command in it and
    shows stdout, stderr and the exit code (red when not 0) in a pane."""
    pods = json.loads(kubectl(sim, "get", "pods", "-A", "-o", "json").stdout)["items"]
    pod = next(p for p in pods if len(p["spec"]["containers"]) > 1 and p["status"].get("phase") == "Running")
    ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    second = pod["spec"]["containers"][1]["name"]
    app = kube_app(sim, command="pods -A")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_rows(app, pilot)
        await pilot.press("colon", *f"exec pod/{ns}/{name} -- sh -c 'echo out-$HOSTNAME; echo oops >&2; exit 4'",
                          "enter")
        await wait_for(lambda: type(app.screen).__name__ == "PickScreen", pilot, timeout=10)
        await pilot.press("down", "enter")
        await wait_for(lambda: type(app.screen).__name__ == "ExecOutputScreen", pilot, timeout=15)
        screen = app.screen
        assert screen.exit_code == "4"
        assert f"out-{name}" in screen.text and "--- stderr ---\noops" in screen.text
        assert f"pod/{ns}/{name}/{second}" in screen.text_title
