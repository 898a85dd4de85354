# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmarks of msgraph.security against the Graph emulator: ``make bench`` -> docs/performance.md and .png.

Everything runs side by side in one run, against one in-process emulator with injected latency, through real
``ansible-playbook`` runs (the way users run the collection):

1. one action: identity_account_action vs. a playbook doing it with ansible.builtin.uri (token + POST);
2. N accounts: the bulk task (targets) vs. the module in a loop vs. a uri loop (token + POST per account);
3. token requests of a playbook of K tasks, with and without token_cache_dir (the emulator's counters);
4. a 429 storm (a share of Graph calls throttled with Retry-After): completion time, nothing lost;
5. the module's peak memory and import time;
6. the bulk task by UPN at the largest N when the service refuses every lookup filter: scans of the tenant;
7. one action and the bulk task at the largest N at each of ``--latencies-ms`` (default 50 and 300 ms per Graph
   call), against the expectation "a 1-task playbook's start + N x latency / max_concurrency";
8. entra_user_action confirm_compromised for ``--risky-users`` users in one task: riskyUsers requests sent (at most
   ceil(N / 60)), paced under Identity Protection's 1 request/s (the emulator answers a faster one with 429).

``--smoke`` runs every scenario at tiny sizes without latency (tests/bench/test_run.py, ``make test``).
``--sections`` (or ``BENCH_SECTIONS``), e.g. ``latency,risky``, runs only those scenarios (names in SECTIONS); the
report then holds only their sections and targets. The full run takes about half an hour.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
for extra in (ROOT / "tests" / "emulator",):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from graph_emulator import Emulator  # noqa: E402  (needs the path above)
from graph_emulator.environment import module_environment  # noqa: E402

import report  # noqa: E402  (tests/bench/report.py, next to this file)

SECTIONS = ("single", "sizes", "cache", "storm", "refused", "footprint", "latency", "risky")
RISKY_USER_IDS_PER_REQUEST = 60  # Microsoft's documented maximum (docs/service-contract.md); what the bound is checked against

ACTION_MODULE = "ansible_collections.msgraph.security.plugins.modules.identity_account_action"
PROVIDER = "activeDirectory"
SCRUBBED_PREFIXES = ("AZURE_", "MSGRAPH_", "ANSIBLE_", "IDENTITY_", "MSI_", "IMDS_")


@dataclass
class Settings:
    sizes: list
    graph_latency_ms: float
    token_latency_ms: float
    concurrency: int
    single_reps: int
    bulk_reps: int
    loop_reps: dict
    k_tasks: int
    storm_size: int
    storm_probability: float
    storm_retry_after: int
    import_reps: int
    out_dir: Path
    smoke: bool
    sections: tuple = SECTIONS
    latencies_ms: tuple = (50, 300)
    latency_reps: int = 5
    risky_users: int = 50


def parse_settings(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, no latency, one repetition (for make test)")
    parser.add_argument("--out", type=Path, default=None, help="where performance.md/.png go (default docs/)")
    parser.add_argument("--sizes", default=None, help="comma-separated N (default 10,100,500)")
    parser.add_argument("--graph-latency-ms", type=float, default=None)
    parser.add_argument("--token-latency-ms", type=float, default=None)
    parser.add_argument("--concurrency", type=int, default=10, help="max_concurrency of the bulk task")
    parser.add_argument("--sections", default=os.environ.get("BENCH_SECTIONS"),
                        help="comma-separated scenarios to run (default all: %s); env BENCH_SECTIONS" % ",".join(SECTIONS))
    parser.add_argument("--latencies-ms", default=None, help="Graph latencies of the latency scenario (default 50,300)")
    parser.add_argument("--latency-reps", type=int, default=None, help="repetitions of the latency scenario (default 5)")
    parser.add_argument("--risky-users", type=int, default=None, help="users of the riskyUsers scenario (default 50)")
    args = parser.parse_args(argv)
    sections = tuple(name.strip() for name in (args.sections or ",".join(SECTIONS)).split(",") if name.strip())
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown or not sections:
        parser.error("unknown --sections %s; choose from %s" % (",".join(unknown) or "(none)", ",".join(SECTIONS)))
    smoke = args.smoke
    sizes = [int(n) for n in (args.sizes or ("3" if smoke else "10,100,500")).split(",")]
    # Loops at the largest N take minutes: fewer repetitions there, never a smaller N.
    loop_reps = dict((n, 1 if smoke or n >= 100 else 3) for n in sizes)
    return Settings(
        sizes=sizes,
        graph_latency_ms=args.graph_latency_ms if args.graph_latency_ms is not None else (0 if smoke else 50),
        token_latency_ms=args.token_latency_ms if args.token_latency_ms is not None else (0 if smoke else 100),
        concurrency=args.concurrency,
        single_reps=1 if smoke else 7,
        bulk_reps=1 if smoke else 5,
        loop_reps=loop_reps,
        k_tasks=3 if smoke else 10,
        storm_size=3 if smoke else 100,
        storm_probability=0.5 if smoke else 0.2,  # the smoke run wants a few 429s even at N=3
        storm_retry_after=0 if smoke else 1,
        import_reps=2 if smoke else 10,
        # A partial run (--sections) must not replace the full report: it goes to build/bench unless --out says otherwise.
        out_dir=args.out or (ROOT / "docs" if set(sections) == set(SECTIONS) else ROOT / "build" / "bench"),
        smoke=smoke,
        sections=sections,
        latencies_ms=tuple(float(value) for value in (args.latencies_ms or ("0,1" if smoke else "50,300")).split(",")),
        latency_reps=args.latency_reps or (1 if smoke else 5),
        risky_users=args.risky_users or (3 if smoke else 50),
    )


# --- running playbooks ----------------------------------------------------------------------------

def collections_path():
    for entry in sys.path + [str(ROOT / "build" / "collections")]:
        if entry and (Path(entry) / "ansible_collections" / "msgraph" / "security").exists():
            return entry
    raise SystemExit("msgraph.security is not importable: run `make collection` (or put build/collections on PYTHONPATH)")


def play_file(tasks, name="playbook.yml", directory=None):
    path = Path(directory) / name
    path.write_text(yaml.safe_dump([{"hosts": "localhost", "connection": "local", "gather_facts": False,
                                     "tasks": tasks}], sort_keys=False), encoding="utf-8")
    return path


@dataclass
class Run:
    seconds: float
    rc: int
    output: str = ""
    emulator_cpu: float = 0.0  # CPU time of this process (the emulator's threads) during the run


@dataclass
class Results:
    """Everything the report shows."""

    settings: Settings
    env_info: dict
    single: dict = None
    single_all: dict = None
    sizes: list = None
    cache: list = None
    storm: dict = None
    refused: dict = None
    footprint: list = None
    imports: dict = None
    latency: list = None
    risky: dict = None
    failures: list = field(default_factory=list)
    elapsed: float = 0.0


@dataclass
class Bench:
    settings: Settings
    workdir: Path
    emulator: Emulator = None
    runs: int = 0
    failures: list = field(default_factory=list)

    def environment(self, extra=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_PREFIXES)}
        env.update(ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                   ANSIBLE_LOCAL_TEMP=str(self.workdir / "tmp"), ANSIBLE_REMOTE_TMP=str(self.workdir / "tmp"),
                   ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
                   ANSIBLE_RETRY_FILES_ENABLED="false", HOME=str(self.workdir / "home"))
        env.update(module_environment(self.emulator.info))
        env.update(extra or {})
        return env

    def play(self, label, tasks, extra_vars=None, env=None, files=None):
        """Run a playbook and time it (wall clock of the whole ansible-playbook process)."""
        self.runs += 1
        run_dir = self.workdir / ("run%03d" % self.runs)
        run_dir.mkdir(parents=True)
        for name, content in (files or {}).items():
            (run_dir / name).write_text(content, encoding="utf-8")
        playbook = play_file(tasks, directory=run_dir)
        command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(playbook)]
        if extra_vars:
            (run_dir / "vars.json").write_text(json.dumps(extra_vars), encoding="utf-8")
            command += ["-e", "@" + str(run_dir / "vars.json")]
        started, cpu = time.perf_counter(), time.process_time()
        completed = subprocess.run(command, env=self.environment(env), cwd=run_dir, capture_output=True, text=True,
                                   check=False)
        run = Run(time.perf_counter() - started, completed.returncode, completed.stdout + completed.stderr,
                  time.process_time() - cpu)
        if run.rc != 0:
            self.failures.append("%s: ansible-playbook exited %d:\n%s" % (label, run.rc, run.output[-3000:]))
        return run

    # --- emulator state ------------------------------------------------------------------------
    def reset(self, extra_identities):
        self.emulator.reset()
        self.emulator.admin.configure(extra_identities=extra_identities)

    def enabled_bulk_identities(self, count):
        """The first ``count`` enabled bulk identities (every tenth starts disabled), with their AD account."""
        found = []
        for identity in self.emulator.admin.state()["identities"]:
            if identity["userPrincipalName"].startswith("bulk-user-") and identity["isEnabled"]:
                account = next(a for a in identity["accounts"] if a["identityProvider"] == PROVIDER)
                found.append({"id": identity["id"], "upn": identity["userPrincipalName"], "account_id": account["identifier"]})
        found.sort(key=lambda item: item["upn"])
        if len(found) < count:
            raise RuntimeError("the emulator has only %d enabled bulk identities, %d needed" % (len(found), count))
        return found[:count]

    def lost(self, targets):
        """Targets whose disable is not in the emulator's state (0 = nothing lost)."""
        state = dict((i["id"], i) for i in self.emulator.admin.state()["identities"])
        return sum(1 for target in targets if state[target["id"]]["isEnabled"] is not False)

    def counters(self):
        return self.emulator.admin.counters()


def identities_needed(count):
    return count + count // 9 + 10  # every tenth bulk identity starts disabled


# --- playbooks -------------------------------------------------------------------------------------

def uri_token_task(name="token"):
    body = {"client_id": "{{ client_id }}", "client_secret": "{{ client_secret }}", "scope": "{{ scope }}",
            "grant_type": "client_credentials"}
    uri = {"url": "{{ authority_host }}/{{ tenant_id }}/oauth2/v2.0/token", "method": "POST",
           "body_format": "form-urlencoded", "ca_path": "{{ ca_path }}", "body": body}
    return {"name": name, "ansible.builtin.uri": uri, "register": "token", "no_log": True}


def uri_action_task(identity, account, action, name="act"):
    uri = {"url": "{{ graph_endpoint }}/beta/security/identities/identityAccounts/%s/invokeAction" % identity,
           "method": "POST", "body_format": "json", "ca_path": "{{ ca_path }}",
           "headers": {"Authorization": "Bearer {{ token.json.access_token }}"},
           "body": {"accountId": account, "action": action, "identityProvider": PROVIDER}}
    return {"name": name, "ansible.builtin.uri": uri}


def uri_vars(info):
    app = info["clients"]["responder"]
    return {"authority_host": info["authority_host"], "graph_endpoint": info["graph_endpoint"], "ca_path": info["ca_path"],
            "tenant_id": info["tenant_id"], "client_id": app["client_id"], "client_secret": app["client_secret"],
            "scope": info["scope"]}


def module_task(name="act", **options):
    return {"name": name, "msgraph.security.identity_account_action": dict(identity_provider=PROVIDER, **options)}


# --- scenarios -------------------------------------------------------------------------------------

def median(values):
    return statistics.median(values) if values else float("nan")


def scenario_single(bench):
    """One forcePasswordReset (a command: every run sends it) by id, ours vs. uri; interleaved repetitions."""
    bench.reset(identities_needed(1))
    [target] = bench.enabled_bulk_identities(1)
    ours_tasks = [module_task(identity_account_id=target["id"], action="forcePasswordReset")]
    uri_tasks = [uri_token_task(), uri_action_task(target["id"], target["account_id"], "forcePasswordReset")]
    baseline_tasks = [{"name": "ping", "ansible.builtin.ping": {}}]
    times = {"ours": [], "uri": [], "baseline": []}
    for dummy in range(bench.settings.single_reps):
        times["ours"].append(bench.play("single ours", ours_tasks).seconds)
        times["uri"].append(bench.play("single uri", uri_tasks, extra_vars=uri_vars(bench.emulator.info)).seconds)
        times["baseline"].append(bench.play("baseline ping", baseline_tasks).seconds)
    return dict((key, median(values)) for key, values in times.items()), times


def run_bulk(bench, targets):
    tasks = [module_task(name="bulk", action="disable", targets=[{"user_principal_name": t["upn"]} for t in targets],
                         max_targets=max(len(targets), 1), max_concurrency=bench.settings.concurrency)]
    return bench.play("bulk N=%d" % len(targets), tasks)


def run_module_loop(bench, targets):
    task = module_task(identity_account_id="{{ item.id }}", action="disable")
    task["loop"] = "{{ targets }}"
    return bench.play("module loop N=%d" % len(targets), [task], extra_vars={"targets": targets})


def run_uri_loop(bench, targets):
    per_account = [uri_token_task(), uri_action_task("{{ item.id }}", "{{ item.account_id }}", "disable")]
    include = {"name": "per account", "ansible.builtin.include_tasks": "per_account.yml", "loop": "{{ targets }}"}
    variables = dict(uri_vars(bench.emulator.info), targets=targets)
    return bench.play("uri loop N=%d" % len(targets), [include], extra_vars=variables,
                      files={"per_account.yml": yaml.safe_dump(per_account, sort_keys=False)})


VARIANTS = (("bulk", run_bulk), ("module loop", run_module_loop), ("uri loop", run_uri_loop))


def scenario_sizes(bench):
    """Each N: the three variants, interleaved, from a fresh emulator state each time."""
    rows = []
    for size in bench.settings.sizes:
        timings = dict((name, []) for name, dummy in VARIANTS)
        server_cpu = dict((name, []) for name, dummy in VARIANTS)
        lost = dict((name, 0) for name, dummy in VARIANTS)
        for rep in range(max(bench.settings.bulk_reps, bench.settings.loop_reps[size])):
            for name, runner in VARIANTS:
                reps = bench.settings.bulk_reps if name == "bulk" else bench.settings.loop_reps[size]
                if rep >= reps:
                    continue
                bench.reset(identities_needed(size))
                targets = bench.enabled_bulk_identities(size)
                run = runner(bench, targets)
                timings[name].append(run.seconds if run.rc == 0 else float("nan"))
                server_cpu[name].append(run.emulator_cpu)
                lost[name] = max(lost[name], bench.lost(targets))
        floor = size * bench.settings.graph_latency_ms / 1000.0 / bench.settings.concurrency
        for name, dummy in VARIANTS:
            rows.append({"n": size, "variant": name, "seconds": median(timings[name]), "reps": len(timings[name]),
                         "all": timings[name], "floor": floor, "lost": lost[name],
                         "emulator_cpu": median(server_cpu[name])})
    return rows


def scenario_token_cache(bench):
    """Token and discovery requests of one playbook of K read tasks, without and with token_cache_dir."""
    rows = []
    for cached in (False, True):
        bench.reset(identities_needed(1))
        upn = bench.enabled_bulk_identities(1)[0]["upn"]
        tasks = [{"name": "read %d" % number, "msgraph.security.identity_account_info": {"user_principal_name": upn}}
                 for number in range(1, bench.settings.k_tasks + 1)]
        env = {}
        if cached:
            cache_dir = Path(tempfile.mkdtemp(prefix="token-cache-", dir=bench.workdir))  # 0700, fresh per run
            env["MSGRAPH_TOKEN_CACHE_DIR"] = str(cache_dir)
        run = bench.play("token cache=%s" % cached, tasks, env=env)
        counters = bench.counters()
        rows.append({"cached": cached, "k": bench.settings.k_tasks, "token_requests": counters["token_requests"],
                     "discovery_requests": counters["discovery_requests"], "seconds": run.seconds, "rc": run.rc})
    return rows


def scenario_storm(bench, calm_seconds):
    """The bulk task while a share of Graph calls (lookups and actions) get 429 with Retry-After."""
    settings = bench.settings
    bench.reset(identities_needed(settings.storm_size))
    targets = bench.enabled_bulk_identities(settings.storm_size)
    for route in ("list_identity_accounts", "get_identity_account", "invoke_action"):
        bench.emulator.admin.add_fault(route=route, kind="status", status=429, retry_after=settings.storm_retry_after,
                                       probability=settings.storm_probability, seed=11)
    run = run_bulk(bench, targets)
    counters = bench.counters()
    invocations = len(bench.emulator.admin.state()["invocations"])
    return {"n": settings.storm_size, "seconds": run.seconds, "rc": run.rc, "throttled": counters["faults_fired"],
            "graph_requests": counters["graph_requests"], "lost": bench.lost(targets), "executed": invocations,
            "calm_seconds": calm_seconds, "probability": settings.storm_probability,
            "retry_after": settings.storm_retry_after}


def scenario_refused_filters(bench, filtered_seconds):
    """Bulk by UPN at the largest N with the derived-type query and the plain $filter both refused (HTTP 400)."""
    size = max(bench.settings.sizes)
    bench.reset(identities_needed(size))
    targets = bench.enabled_bulk_identities(size)
    bench.emulator.admin.configure(filter_support={"cast": "refuse", "plain": "refuse"})
    bench.emulator.admin.clear_requests()
    run = run_bulk(bench, targets)
    reads = [entry for entry in bench.emulator.admin.requests(method="GET")
             if entry["family"] == "graph" and entry["path"].rstrip("/").endswith(("/identityAccounts", "/microsoft.graph.security.user"))]
    unfiltered = [entry for entry in reads if "$filter" not in entry["query"]]
    return {"n": size, "seconds": run.seconds, "rc": run.rc, "filtered_seconds": filtered_seconds,
            "refused_queries": sum(1 for entry in reads if "$filter" in entry["query"]),
            "scans": sum(1 for entry in unfiltered if "$skiptoken" not in entry["query"]),
            "scan_pages": len(unfiltered), "identities": len(bench.emulator.admin.state()["identities"]),
            "lost": bench.lost(targets)}


def import_cost(reps, preload=None):
    """Medians of (wall s, CPU s, peak RSS MiB) of importing the action module in a fresh interpreter, start-up excluded.

    CPU time is the steadier figure on a shared machine. ``preload``: a module imported first, inside the timed part
    (what an eager import of it would add).
    """
    imports = ("import %s; " % preload if preload else "") + "import " + ACTION_MODULE
    code = ("import sys, time; sys.path.insert(0, %r); from measure_module import peak_rss_kib; "
            "wall, cpu = time.perf_counter(), time.process_time(); %s; "
            "print(time.perf_counter() - wall, time.process_time() - cpu, peak_rss_kib() / 1024.0)" % (str(HERE), imports))
    samples = []
    for dummy in range(reps):
        completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                   env=dict(os.environ, PYTHONPATH=collections_path()), check=True)
        samples.append([float(value) for value in completed.stdout.split()])
    return tuple(median([sample[index] for sample in samples]) for index in range(3))


def measure_module(bench, label, args):
    """Run the module's main() in a subprocess (as Ansible does) and read its peak RSS."""
    run_dir = Path(tempfile.mkdtemp(prefix="measure-", dir=bench.workdir))
    (run_dir / "args.json").write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}), encoding="utf-8")
    out = run_dir / "out.json"
    env = bench.environment({"PYTHONPATH": collections_path()})
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, str(HERE / "measure_module.py"), str(out), ACTION_MODULE,
                                str(run_dir / "args.json")], env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    data = json.loads(out.read_text()) if out.exists() else {}
    result = data.get("result") or {}
    if completed.returncode != 0 or result.get("failed"):
        bench.failures.append("%s: %s %s" % (label, result.get("msg"), completed.stderr[-2000:]))
    return {"label": label, "peak_rss_mib": data.get("peak_rss_kib", 0) / 1024.0, "seconds": wall}


def scenario_footprint(bench):
    size = max(bench.settings.sizes)
    bench.reset(identities_needed(size))
    targets = bench.enabled_bulk_identities(size)
    rows = [measure_module(bench, "one action (forcePasswordReset by id)",
                           {"identity_account_id": targets[0]["id"], "identity_provider": PROVIDER,
                            "action": "forcePasswordReset"})]
    rows.append(measure_module(bench, "bulk, N=%d, max_concurrency %d" % (size, bench.settings.concurrency),
                               {"targets": [{"user_principal_name": t["upn"]} for t in targets],
                                "identity_provider": PROVIDER, "action": "disable", "max_targets": size,
                                "max_concurrency": bench.settings.concurrency}))
    reps = bench.settings.import_reps
    imports = {"lazy": import_cost(reps), "eager": import_cost(reps, preload="cryptography.x509")}
    return rows, imports


def scenario_latency(bench):
    """One action and the bulk task at the largest N, at each Graph latency, with the ping baseline run beside them:
    measured / (baseline + N x latency / concurrency), N=1 and concurrency 1 for the one action."""
    settings = bench.settings
    size = max(settings.sizes)
    rows = []
    for latency in settings.latencies_ms:
        times = {"single": [], "bulk": [], "baseline": []}
        for dummy in range(settings.latency_reps):
            bench.reset(identities_needed(size))
            bench.emulator.admin.configure(graph_latency_ms=latency)
            [target] = bench.enabled_bulk_identities(1)
            run = bench.play("latency %g single" % latency, [module_task(identity_account_id=target["id"], action="forcePasswordReset")])
            times["single"].append(run.seconds if run.rc == 0 else float("nan"))
            times["baseline"].append(bench.play("latency %g baseline" % latency, [{"name": "ping", "ansible.builtin.ping": {}}]).seconds)
            bench.reset(identities_needed(size))
            bench.emulator.admin.configure(graph_latency_ms=latency)
            targets = bench.enabled_bulk_identities(size)
            run = run_bulk(bench, targets)
            times["bulk"].append(run.seconds if run.rc == 0 else float("nan"))
        baseline = median(times["baseline"])
        for kind, n, concurrency in (("single", 1, 1), ("bulk", size, settings.concurrency)):
            expected = baseline + n * latency / 1000.0 / concurrency
            rows.append({"latency_ms": latency, "kind": kind, "n": n, "seconds": median(times[kind]), "all": times[kind],
                         "baseline": baseline, "expected": expected})
    return rows


def scenario_risky(bench):
    """confirm_compromised for N users in one entra_user_action task, with Identity Protection's 1 request/s on."""
    size = bench.settings.risky_users
    bench.reset(identities_needed(size))
    bench.emulator.admin.configure(identity_protection_rps=1)
    users = sorted((user for user in bench.emulator.admin.state()["users"] if user["userPrincipalName"].startswith("bulk-user-")),
                   key=lambda user: user["userPrincipalName"])[:size]
    if len(users) < size:
        raise RuntimeError("the emulator has only %d bulk users, %d needed" % (len(users), size))
    bench.emulator.admin.clear_requests()
    tasks = [{"name": "confirm", "msgraph.security.entra_user_action": {
        "action": "confirm_compromised", "targets": [{"user_principal_name": user["userPrincipalName"]} for user in users],
        "max_targets": max(size, 1)}}]
    run = bench.play("risky N=%d" % size, tasks)
    posts = [entry for entry in bench.emulator.admin.requests(method="POST")
             if entry["family"] == "graph" and entry["path"].endswith("/riskyUsers/confirmCompromised")]
    state = dict((user["id"], user) for user in bench.emulator.admin.state()["users"])
    return {"n": size, "seconds": run.seconds, "rc": run.rc, "requests": len(posts),
            "throttled": sum(1 for entry in posts if entry["status"] == 429),
            "bound": -(-size // RISKY_USER_IDS_PER_REQUEST),
            "lost": sum(1 for user in users if state[user["id"]]["riskState"] != "confirmedCompromised")}


def environment_info():
    try:
        from ansible.release import __version__ as ansible_version
    except ImportError:
        ansible_version = "?"
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": "%s %s" % (platform.system(), platform.machine()),
            "python": platform.python_version(), "ansible": ansible_version, "cpus": os.cpu_count() or 0,
            "load_start": "%.1f" % os.getloadavg()[0], "load_end": "?"}


def main(argv=None):
    settings = parse_settings(argv)
    results = Results(settings=settings, env_info=environment_info())
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="msgraph-bench-") as temp:
        workdir = Path(temp)
        (workdir / "home").mkdir()
        (workdir / "tmp").mkdir()
        emulator = Emulator(workdir=workdir / "emulator", port=0, graph_latency_ms=settings.graph_latency_ms,
                            token_latency_ms=settings.token_latency_ms).start()
        bench = Bench(settings, workdir, emulator)
        try:
            run_scenarios(bench, results)
        finally:
            emulator.stop()
    results.failures = bench.failures
    results.elapsed = time.perf_counter() - started
    results.env_info["load_end"] = "%.1f" % os.getloadavg()[0]
    text = report.render(results)
    (settings.out_dir / "performance.md").write_text(text, encoding="utf-8")
    plotted = report.plot(results, settings.out_dir / "performance.png")
    print(text)
    print("wrote %s%s" % (settings.out_dir / "performance.md", " and performance.png" if plotted else " (no plot: no sizes scenario, or no matplotlib)"))
    return 1 if bench.failures else 0


def bulk_seconds(results, size):
    """The bulk task's median at ``size`` from the sizes scenario, or None when it did not run."""
    return next((row["seconds"] for row in results.sizes or () if row["variant"] == "bulk" and row["n"] == size), None)


def run_scenarios(bench, results):
    """The selected scenarios, in SECTIONS order; each fills the Results attributes named beside it."""
    settings = bench.settings
    runners = {
        "single": (("single", "single_all"), lambda: scenario_single(bench)),
        "sizes": (("sizes",), lambda: scenario_sizes(bench)),
        "cache": (("cache",), lambda: scenario_token_cache(bench)),
        "storm": (("storm",), lambda: scenario_storm(bench, bulk_seconds(results, settings.storm_size))),
        "refused": (("refused",), lambda: scenario_refused_filters(bench, bulk_seconds(results, max(settings.sizes)))),
        "footprint": (("footprint", "imports"), lambda: scenario_footprint(bench)),
        "latency": (("latency",), lambda: scenario_latency(bench)),
        "risky": (("risky",), lambda: scenario_risky(bench)),
    }
    for name in SECTIONS:
        if name in settings.sections:
            attributes, runner = runners[name]
            values = runner()
            for attribute, value in zip(attributes, values if len(attributes) > 1 else (values,)):
                setattr(results, attribute, value)


if __name__ == "__main__":
    sys.exit(main())
