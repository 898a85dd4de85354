# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docs/performance.md and docs/performance.png from the results of tests/bench/run.py."""

from __future__ import annotations

import math

EXPLANATIONS = [
    "* **Fixed costs dominate small runs.** Every `ansible-playbook` run pays its own start-up and one task (the "
    "ping baseline above), and every module run pays a Python interpreter, the module's imports, the token service "
    "discovery and a token request. The bulk task pays them once; the loops pay the per-task part N times.",
    "* **The floor counts only the Graph calls' latency.** The bulk task also pays the fixed costs above, one lookup "
    "per 15 accounts, and the CPU time of TLS, JSON and Ansible's result handling on both sides (client and emulator "
    "share this machine's cores with each other and with other jobs). That is why the whole-run ratio to the floor "
    "stays above 1 even when the actions themselves run at max_concurrency.",
    "* **A 429 pauses the whole batch** until the Retry-After instant (Graph throttles the application, not one "
    "request), so a storm where a random share of calls is throttled costs about one Retry-After per round of "
    "max_concurrency requests. Slower, but every throttled request is retried within max_retries and retry_budget "
    "and nothing is lost or executed twice.",
    "* **One token per run with token_cache_dir**: the first task asks for a token and stores it (file 0600 in a "
    "0700 directory, MSAL's public cache serialization); later tasks make no token request until the token expires, "
    "only the token service's discovery request (a few milliseconds). Without it, each task makes both.",
]


def missing(value):
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt(value, digits=2, absent="failed"):
    """A number, or ``absent`` (a failed run: "failed"; nothing to compare with: "n/a")."""
    return absent if missing(value) else ("%%.%df" % digits) % value


def ratio(numerator, denominator):
    if missing(numerator) or missing(denominator) or not denominator:
        return float("nan")
    return numerator / denominator


def verdict(value, ok):
    """met / missed, or n/a when there was nothing to measure (no latency means no floor)."""
    if missing(value):
        return "n/a"
    return "**met**" if ok(value) else "**missed**"


def table(headers, rows):
    lines = ["| %s |" % " | ".join(headers), "|%s" % ("---|" * len(headers))]
    lines += ["| %s |" % " | ".join(str(cell) for cell in row) for row in rows]
    return lines + [""]


# --- sections --------------------------------------------------------------------------------------

def method_section(results):
    settings, env = results.settings, results.env_info
    lines = [
        "## What was measured, and how", "",
        "* **Where**: %s; Python %s, ansible-core %s; %d CPU(s); load average %s at the start and %s at the end. Other "
        "jobs may share the machine: absolute times are noisy, which is why every comparison is made side by side in "
        "one run, interleaved." % (env["machine"], env["python"], env["ansible"], env["cpus"], env["load_start"],
                                   env["load_end"]),
        "* **Against what**: the Graph/Entra emulator (`tests/emulator`) over HTTPS, started by the harness, with "
        "**%g ms** added to every Graph call and **%g ms** to every token request."
        % (settings.graph_latency_ms, settings.token_latency_ms),
        "* **Timing**: wall clock of the whole `ansible-playbook` process (what a user waits for), median of the "
        "repetitions shown. The emulator's state is reset before every run.",
        "* **Floor**: N x %g ms / max_concurrency %d, the time the Graph calls alone take if nothing else costs "
        "anything." % (settings.graph_latency_ms, settings.concurrency),
        "* **uri playbooks** are what users write today: a token request (`ansible.builtin.uri`, form POST) and the "
        "invokeAction POST, with the identity id and account id already known (so they skip the lookup and the checks "
        "our module makes). The uri loop does both for each account (`include_tasks` in a loop).",
        "* **Our module** looks the identity up (GET by id), checks it (protected accounts, account, idempotency) and "
        "sends the action. The bulk task takes user principal names, looks them up in batches of 15 and sends with "
        "max_concurrency %d; the module loop runs the module once per account." % settings.concurrency,
        "",
    ]
    if settings.smoke:
        lines += ["> Smoke run (tiny sizes, no latency): the numbers mean nothing, only that every scenario ran.", ""]
    return lines


def single_section(results):
    single, runs = results.single, results.single_all
    names = (("ours", "msgraph.security.identity_account_action (1 task)"),
             ("uri", "ansible.builtin.uri: token + POST (2 tasks)"),
             ("baseline", "baseline: 1 task of ansible.builtin.ping"))
    rows = [(label, fmt(single[key]), ", ".join(fmt(value) for value in runs[key])) for key, label in names]
    return (["## 1. One action", "", "A forcePasswordReset (a command: every run sends it) on one account.", ""]
            + table(("Playbook", "Median (s)", "Runs (s)"), rows)
            + ["Ratio ours / uri: **%s**." % fmt(ratio(single["ours"], single["uri"]), 2, "n/a"), ""])


def sizes_section(results):
    uri_by_n = dict((row["n"], row["seconds"]) for row in results.sizes if row["variant"] == "uri loop")
    rows = [(row["n"], row["variant"], fmt(row["seconds"]), ", ".join(fmt(value) for value in row["all"]),
             fmt(ratio(row["n"], row["seconds"]), 1), fmt(ratio(row["seconds"], row["floor"]), 1, "n/a"),
             fmt(ratio(uri_by_n[row["n"]], row["seconds"]), 1), row["lost"], fmt(row["emulator_cpu"]))
            for row in results.sizes]
    floors = ", ".join("N=%d: %s s" % (row["n"], fmt(row["floor"])) for row in results.sizes if row["variant"] == "bulk")
    headers = ("N", "Variant", "Median (s)", "Runs (s)", "Actions/s", "x floor", "Speed-up vs uri loop", "Lost actions",
               "Emulator CPU (s)")
    return (["## 2. Many accounts", "", "Disable N enabled accounts.", ""] + table(headers, rows)
            + ["Floor: %s. Loops at N >= 100 ran once (they take minutes); the bulk task ran %d time(s) at every N. "
               "Lost actions: targets whose disable is missing from the emulator's state afterwards. Emulator CPU: "
               "the CPU time the emulator (TLS, JSON, token checks) spent during the run, on the same cores as the "
               "module."
               % (floors, results.settings.bulk_reps), "", "![time against number of accounts](performance.png)", ""])


def cache_section(results):
    rows = [("K=%d, %s" % (row["k"], "token_cache_dir set" if row["cached"] else "default (in memory)"),
             row["token_requests"], row["discovery_requests"], fmt(row["seconds"])) for row in results.cache]
    return (["## 3. Token requests per playbook", "", "A playbook of K identity_account_info tasks; requests counted by "
             "the emulator.", ""] + table(("Playbook", "Token requests", "Discovery requests", "Wall (s)"), rows))


def storm_section(results):
    storm = results.storm
    values = (storm["probability"] * 100, storm["retry_after"], storm["n"], results.settings.concurrency)
    intro = ("%d%% of Graph calls (lookups and actions) answered 429 with `Retry-After: %d` (emulator fault with "
             "`probability`); bulk task, N=%d, max_concurrency %d." % values)
    headers = ("Throttled answers", "Graph requests", "Completion (s)", "Same N without storm (s)", "Lost actions",
               "Actions executed")
    row = (storm["throttled"], storm["graph_requests"], fmt(storm["seconds"]), fmt(storm["calm_seconds"], 2, "n/a"),
           storm["lost"], "%d of %d" % (storm["executed"], storm["n"]))
    return ["## 4. 429 storm", "", intro, ""] + table(headers, [row])


def footprint_section(results):
    runs = [(row["label"], "%.1f" % row["peak_rss_mib"], fmt(row["seconds"])) for row in results.footprint]
    lazy, eager = results.imports["lazy"], results.imports["eager"]
    imports = [("as shipped (cryptography imported only for certificate auth)", fmt(lazy[0], 3), fmt(lazy[1], 3),
                "%.1f" % lazy[2]),
               ("with cryptography imported eagerly, as before", fmt(eager[0], 3), fmt(eager[1], 3), "%.1f" % eager[2])]
    return (["## 5. Module footprint", "", "The module run directly (its main(), as Ansible runs it), peak RSS "
             "(VmHWM) of that process:", ""] + table(("Module run", "Peak RSS (MiB)", "Process wall (s)"), runs)
            + ["Start-up: importing identity_account_action in a fresh interpreter (median of %d; interpreter start-up "
               "excluded; CPU time is the steadier figure on a shared machine)." % results.settings.import_reps, ""]
            + table(("Import", "Wall (s)", "CPU (s)", "Peak RSS after import (MiB)"), imports))


def refused_section(results):
    refused = results.refused
    intro = ("The bulk task disables N accounts looked up by UPN while the emulator refuses both the derived-type query "
             "(`identityAccounts/microsoft.graph.security.user`) and the plain `$filter` with HTTP 400 (`filter_support`). "
             "The collection then reads every identity once and matches all N targets on that one scan; before, each "
             "target (or batch of 15) fell back to a scan of its own. The tenant held %d identities." % refused["identities"])
    headers = ("N", "Refused filter queries", "Tenant scans", "Scan pages", "Completion (s)", "Same N, filters answered (s)",
               "Lost actions")
    row = (refused["n"], refused["refused_queries"], refused["scans"], refused["scan_pages"], fmt(refused["seconds"]),
           fmt(refused["filtered_seconds"]), refused["lost"])
    return ["## 6. Lookups when the service refuses every filter", "", intro, ""] + table(headers, [row])


def latency_section(results):
    rows = [(fmt(row["latency_ms"], 0), "one action (identity_account_action, 1 task)" if row["kind"] == "single"
             else "bulk, N=%d, max_concurrency %d" % (row["n"], results.settings.concurrency),
             fmt(row["seconds"]), ", ".join(fmt(value) for value in row["all"]), fmt(row["baseline"]), fmt(row["expected"]),
             fmt(ratio(row["seconds"], row["expected"]), 2, "n/a") + "x") for row in results.latency]
    headers = ("Graph latency (ms)", "Task", "Median (s)", "Runs (s)", "1-task playbook (ping, s)", "Expected (s)",
               "Measured / expected")
    settings = results.settings
    where = []
    for latency in settings.latencies_ms:
        single = next(row for row in results.latency if row["latency_ms"] == latency and row["kind"] == "single")
        bulk = next(row for row in results.latency if row["latency_ms"] == latency and row["kind"] == "bulk")
        seconds = latency / 1000.0
        # The one action: ping start + its own start + two serial Graph calls (GET the identity, POST the action).
        module_start = single["seconds"] - single["baseline"] - 2 * seconds
        # The bulk task by UPN: ceil(N/15) lookups, max_concurrency at a time, before any action can start.
        lookups = -(-(-(-bulk["n"] // 15)) // settings.concurrency) * seconds
        rest = bulk["seconds"] - bulk["expected"] - module_start - lookups
        where.append((fmt(latency, 0), fmt(bulk["seconds"] - bulk["expected"]), fmt(module_start), fmt(lookups), fmt(rest)))
    breakdown = (["Where the bulk task's time above the expectation goes, per latency: the module's own start (the one "
                  "action's median less the ping playbook and its two serial Graph calls: interpreter, imports, token "
                  "discovery and request, Ansible's result handling), the lookup phase (ceil(N/15) lookups, "
                  "max_concurrency at a time, before any action), and the rest (TLS, JSON and scheduling on %d shared "
                  "cores, retries)." % results.env_info["cpus"], ""]
                 + table(("Graph latency (ms)", "Above expected (s)", "Module start (s)", "Lookup phase (s)", "Rest (s)"), where))
    return (["## 7. Latency: %s ms per Graph call" % " and ".join(fmt(value, 0) for value in settings.latencies_ms), "",
             "Expected = a 1-task playbook's start (the ping baseline, measured beside it) + N x latency / "
             "max_concurrency (N=1, concurrency 1 for the one action). What is left above 1x is the module's own start "
             "(interpreter, imports, token discovery and request) and the serial calls a task makes before it can "
             "fan out (the one action reads the identity before it acts; the bulk task's lookups of 15 run before its "
             "actions).", ""] + table(headers, rows) + breakdown)


def risky_section(results):
    risky = results.risky
    row = (risky["n"], risky["requests"], risky["bound"], risky["throttled"], fmt(risky["seconds"]), risky["lost"])
    return (["## 8. riskyUsers in bulk", "", "entra_user_action confirm_compromised for N users in one task (`targets`), "
             "the emulator enforcing Identity Protection's 1 request/s per tenant (429 without Retry-After). Microsoft "
             "documents at most 60 userIds per request.", ""]
            + table(("N", "confirmCompromised requests", "Bound ceil(N/60)", "429 answers", "Wall (s)", "Users not confirmed"), [row]))


def targets_rows(results):
    settings, single = results.settings, results.single
    rows = []
    if results.sizes and single:
        largest = max(settings.sizes)
        by = dict(((row["n"], row["variant"]), row) for row in results.sizes)
        bulk, uri = by[(largest, "bulk")], by[(largest, "uri loop")]
        speedup = ratio(uri["seconds"], bulk["seconds"])
        floor_ratio = ratio(bulk["seconds"], bulk["floor"])
        excess_ratio = ratio(bulk["seconds"] - single["baseline"], bulk["floor"])
        rows += [
            ("bulk at N=%d at least 25x faster than the uri loop" % largest, fmt(speedup, 1, "n/a") + "x",
             verdict(speedup, lambda v: v >= 25)),
            ("bulk at N=%d within 1.5x of the floor (whole ansible-playbook run)" % largest, fmt(floor_ratio, 2, "n/a") + "x",
             verdict(floor_ratio, lambda v: v <= 1.5)),
            ("the same, less the fixed cost of a 1-task playbook (ping, %s s)" % fmt(single["baseline"]),
             fmt(excess_ratio, 2, "n/a") + "x", verdict(excess_ratio, lambda v: v <= 1.5)),
        ]
    if single:
        single_ratio = ratio(single["ours"], single["uri"])
        rows.append(("one action within 1.15x of the uri playbook", fmt(single_ratio, 2, "n/a") + "x",
                     verdict(single_ratio, lambda v: v <= 1.15)))
    if results.cache:
        cached = next(row for row in results.cache if row["cached"])
        rows += [("one token request per run with the cache (K=%d)" % settings.k_tasks, cached["token_requests"],
                  verdict(cached["token_requests"], lambda v: v == 1)),
                 ("one discovery request per run with the cache (K=%d)" % settings.k_tasks, cached["discovery_requests"],
                  verdict(cached["discovery_requests"], lambda v: v == 1))]
    if results.refused:
        rows.append(("exactly one tenant scan for N=%d UPNs with every filter refused" % results.refused["n"], results.refused["scans"],
                     verdict(results.refused["scans"], lambda v: v == 1)))
    for row in results.latency or ():
        if row["kind"] == "bulk" and row["latency_ms"] >= 300:
            measured = ratio(row["seconds"], row["expected"])
            rows.append(("bulk at N=%d and %g ms per Graph call within 1.2x of the expected time" % (row["n"], row["latency_ms"]),
                         fmt(measured, 2, "n/a") + "x", verdict(measured, lambda v: v <= 1.2)))
    if results.risky:
        risky = results.risky
        rows.append(("confirm_compromised for N=%d users in at most ceil(N/60)=%d requests, no 429" % (risky["n"], risky["bound"]),
                     risky["requests"], verdict(risky["requests"], lambda v: v <= risky["bound"] and not risky["throttled"])))
    return rows


SECTION_RESULTS = (("single", "single_section"), ("sizes", "sizes_section"), ("cache", "cache_section"),
                   ("storm", "storm_section"), ("footprint", "footprint_section"), ("refused", "refused_section"),
                   ("latency", "latency_section"), ("risky", "risky_section"))


def render(results):
    lines = ["# Performance of msgraph.security", "",
             "Generated by `make bench` (`tests/bench/run.py`) on %s; it took %.0f s. Do not edit by hand: run it "
             "again." % (results.env_info["date"], results.elapsed), ""]
    lines += method_section(results)
    for attribute, section in SECTION_RESULTS:
        if getattr(results, attribute) is not None:
            lines += globals()[section](results)
    lines += ["## Targets", ""] + table(("Target", "Measured", "Verdict"), targets_rows(results))
    lines += ["## Reading the numbers", ""] + EXPLANATIONS
    if results.failures:
        lines += ["", "## Failed runs", ""]
        lines += ["```text\n%s\n```" % failure for failure in results.failures]
    return "\n".join(lines) + "\n"


def plot(results, path):
    """Time against N (log-log) for the three variants and the floor; False when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    if not results.sizes:
        return False
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for variant, marker in (("bulk", "o"), ("module loop", "s"), ("uri loop", "^")):
        points = [(row["n"], row["seconds"]) for row in results.sizes if row["variant"] == variant and not missing(row["seconds"])]
        axes.plot([n for n, dummy in points], [s for dummy, s in points], marker=marker, label=variant)
    floors = [(row["n"], row["floor"]) for row in results.sizes if row["variant"] == "bulk" and row["floor"]]
    if floors:
        axes.plot([n for n, dummy in floors], [f for dummy, f in floors], linestyle="--", color="grey",
                  label="floor (N x latency / max_concurrency)")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("accounts (N)")
    axes.set_ylabel("wall time of the playbook (s)")
    axes.set_title("Disable N accounts - Graph latency %g ms, max_concurrency %d"
                   % (results.settings.graph_latency_ms, results.settings.concurrency))
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(str(path), dpi=110)
    plt.close(figure)
    return True
