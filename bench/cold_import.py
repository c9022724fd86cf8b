"""Cold import time of the Lambda handler next to a bare FastAPI + Mangum + inngest app.

A Lambda cold start pays for `import jobmatch.handler` (every module the app runs
on, Powertools) and then for what its first request builds. The baseline is the
least any app on this stack can pay: one FastAPI app serving one Inngest function
through Mangum. Both are timed the same way in the same run: `import <module>` in
a fresh interpreter, timed inside it with perf_counter (interpreter start-up
excluded), then, in the same interpreter, the first request: GET /api/inngest,
the serve endpoint every Inngest call goes to. N runs each, interleaved, after
one discarded warm-up run each so bytecode caches are written. Medians are
reported.

The goal (<= 1.5x) is on the import. The second column keeps it honest: work
moved out of the import into the first request shows up there, so only work no
request needs (or only some requests need) is a saving.

Both run with the environment the deployed function gets: the Api function's
variables from template.yaml (resolved for `--env`, prod by default) plus those
the Lambda runtime sets (AWS_LAMBDA_FUNCTION_NAME among them, so the app takes
its Lambda paths). Secrets Manager and SSM are answered by a stand-in on
127.0.0.1 (AWS_ENDPOINT_URL) that counts the calls: every call is a network round
trip a real cold start pays, here almost free.

Then one `python -X importtime` run of the handler, grouped by top-level package,
shows where the time goes (own = sum of the package's modules' self times;
cumulative = the package's first import including what it pulled in).

    python bench/cold_import.py [--runs N] [--env prod]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from lambda_env import ROOT, lambda_runtime_environment

GOAL_RATIO = 1.5
SIGNING_KEY = "signkey-bench-" + "ab" * 32

BARE_APP = """
import inngest
import inngest.fast_api
from fastapi import FastAPI
from mangum import Mangum

client = inngest.Inngest(
    app_id="bare", is_production=True, signing_key="signkey-bench-" + "ab" * 32
)


@client.create_function(fn_id="noop", trigger=inngest.TriggerEvent(event="bare/noop"))
def noop(ctx: inngest.ContextSync) -> None:
    return None


app = FastAPI()
inngest.fast_api.serve(app, client, [noop], serve_path="/api/inngest")
handler = Mangum(app, lifespan="off")
"""

# Import, then one request through the module's `handler`, as Lambda runs them.
PROBE = """
import importlib, json, sys, time
class Context:
    function_name = "jobmatch-bench-Api"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:Api"
    aws_request_id = "bench"
    log_group_name = "/aws/lambda/Api"
    log_stream_name = "bench"
event = json.loads(sys.argv[1])
started = time.perf_counter()
module = importlib.import_module({module!r})
imported = time.perf_counter()
response = module.handler(event, Context())
served = time.perf_counter()
# Unsigned, so cloud mode answers 401; either way the SDK's endpoint served it.
assert response["headers"].get("x-inngest-sdk-handled") == "true", response
print(imported - started, served - started)
"""


def first_request_event() -> dict[str, Any]:
    """GET /api/inngest as API Gateway (HTTP API v2) delivers it."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/api/inngest",
        "rawQueryString": "",
        "headers": {"host": "api.example.com", "x-forwarded-proto": "https"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": "api.example.com",
            "http": {
                "method": "GET",
                "path": "/api/inngest",
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "bench",
            },
            "requestId": "bench",
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": 0,
        },
        "isBase64Encoded": False,
    }


class FakeAwsHandler(BaseHTTPRequestHandler):
    """Secrets Manager GetSecretValue and SSM GetParameter, JSON 1.1 protocol."""

    calls: list[str] = []  # noqa: RUF012 - shared by the server's handler instances

    def do_POST(self) -> None:
        target = self.headers.get("X-Amz-Target", "")
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        FakeAwsHandler.calls.append(target)
        body: dict[str, Any]
        if target.endswith("GetSecretValue"):
            secret = {"inngest_signing_key": SIGNING_KEY, "inngest_event_key": "bench"}
            body = {"Name": "app", "SecretString": json.dumps(secret), "VersionId": "v1"}
        elif target.endswith("GetParameter"):
            body = {"Parameter": {"Name": "p", "Type": "String", "Value": "ab" * 32}}
        else:
            self.send_response(400)
            self.end_headers()
            return
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        return


def bench_env(extra_path: str, endpoint: str, deploy_env: str) -> dict[str, str]:
    """The deployed function's environment, AWS calls pointed at the stand-in."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    env |= lambda_runtime_environment("Api", deploy_env)
    env |= {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "ASIABENCH",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "LAMBDA_TASK_ROOT": str(ROOT / "functions"),
        "PYTHONPATH": extra_path,
    }
    return env


def time_cold_start(module: str, env: dict[str, str], cwd: str) -> tuple[float, float]:
    """Seconds of `import module`, and of the import plus the first request, in a
    fresh interpreter."""
    out = subprocess.run(  # noqa: S603 - fixed interpreter and probe
        [sys.executable, "-c", PROBE.format(module=module), json.dumps(first_request_event())],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise RuntimeError(f"{module} failed its cold start:\n{out.stderr[-2000:]}")
    imported, served = out.stdout.strip().splitlines()[-1].split()
    return float(imported), float(served)


def importtime_rows(module: str, env: dict[str, str], cwd: str) -> list[list[str]]:
    """[self us, cumulative us, indented name] of what `import module` imports."""
    out = subprocess.run(  # noqa: S603 - fixed interpreter and module
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [
        line.removeprefix("import time:").split("|")
        for line in out.stderr.splitlines()
        if line.startswith("import time:") and "self [us]" not in line
    ]
    # Interpreter start-up ends with `site`; what follows is the import statement.
    start = max(i for i, row in enumerate(rows) if row[2].strip() == "site") + 1
    return rows[start:]


def by_package(rows: list[list[str]]) -> dict[str, tuple[float, float]]:
    """Top-level package -> (own ms, cumulative ms).

    Own: the sum of its modules' self times. Cumulative: also what they pulled in.
    importtime lists children before their parent, indented two spaces a level; a
    row's cumulative time counts for its package unless its parent belongs to the
    same package (whose cumulative time already holds it).
    """
    own: dict[str, float] = defaultdict(float)
    cumulative: dict[str, float] = defaultdict(float)
    waiting: dict[int, list[tuple[str, float]]] = defaultdict(list)
    for self_us, cumulative_us, name in rows:
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        top, total = name.strip().split(".")[0], int(cumulative_us) / 1000
        own[top] += int(self_us) / 1000
        cumulative[top] += total
        for child_top, child_total in waiting.pop(depth + 1, []):
            if child_top == top:
                cumulative[top] -= child_total
        waiting[depth].append((top, total))
    return {top: (own[top], cumulative[top]) for top in own}


def import_breakdown(
    module: str, env: dict[str, str], cwd: str, runs: int
) -> tuple[dict[str, tuple[float, float]], dict[str, float]]:
    """Per package (own, cumulative) ms and per module self ms, medians of `runs`."""
    packages: dict[str, list[tuple[float, float]]] = defaultdict(list)
    modules: dict[str, list[float]] = defaultdict(list)
    for _ in range(runs):
        rows = importtime_rows(module, env, cwd)
        for top, times in by_package(rows).items():
            packages[top].append(times)
        for self_us, _cumulative, name in rows:
            modules[name.strip()].append(int(self_us) / 1000)
    return (
        {
            top: (
                statistics.median(t[0] for t in times),
                statistics.median(t[1] for t in times),
            )
            for top, times in packages.items()
        },
        {name: statistics.median(times) for name, times in modules.items()},
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="cold import benchmark")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--env", default="prod", help="samconfig.toml environment")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)

    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAwsHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "bare_handler.py").write_text(BARE_APP)
        env = bench_env(f"{ROOT / 'functions'}:{tmp}", endpoint, args.env)
        # label -> (module, cwd, environment); the X-Ray SDK variant shows what
        # EnableXRaySdk=true costs every cold start.
        subjects = {
            "jobmatch.handler": ("jobmatch.handler", str(ROOT), env),
            "  with EnableXRaySdk=true": (
                "jobmatch.handler",
                str(ROOT),
                env | {"POWERTOOLS_TRACE_DISABLED": "false"},
            ),
            "bare FastAPI + Mangum + inngest": ("bare_handler", tmp, env),
        }
        for module, cwd, subject_env in subjects.values():
            time_cold_start(module, subject_env, cwd)  # warm-up: write bytecode caches
        FakeAwsHandler.calls.clear()
        samples: dict[str, list[tuple[float, float]]] = {label: [] for label in subjects}
        for _ in range(args.runs):
            for label, (module, cwd, subject_env) in subjects.items():
                samples[label].append(time_cold_start(module, subject_env, cwd))
        aws_calls = list(FakeAwsHandler.calls)
        packages, modules = import_breakdown("jobmatch.handler", env, str(ROOT), runs=3)
    server.shutdown()

    def median_ms(label: str, column: int) -> float:
        return statistics.median(sample[column] for sample in samples[label]) * 1000

    ours, bare = "jobmatch.handler", "bare FastAPI + Mangum + inngest"
    print(
        f"cold start with the template's Api environment ({args.env}), "
        f"median of {args.runs} fresh interpreters (min in brackets), ms:"
    )
    print(f"  {'':<33}{'import':>16}{'+ first GET /api/inngest':>28}")
    for label, times in samples.items():
        fastest = min(t[0] for t in times) * 1000
        print(
            f"  {label:<33}{median_ms(label, 0):8.1f} [{fastest:5.1f}]{median_ms(label, 1):20.1f}"
        )
    ratio, served_ratio = (median_ms(ours, c) / median_ms(bare, c) for c in (0, 1))
    verdict = "OK" if ratio <= GOAL_RATIO else "OVER"
    print(
        f"  {'ratio':<33}{ratio:8.2f}x (goal <= {GOAL_RATIO}x: {verdict})"
        f"{served_ratio:12.2f}x with the first request"
    )
    per_start = len(aws_calls) / args.runs / 2  # two handler subjects
    kinds = sorted({c.split(".")[-1] for c in aws_calls})
    print(f"  AWS calls per cold start (import + first request): {per_start:.0f} {kinds or ''}")
    print(f"  -X importtime of jobmatch.handler (median of 3), top {args.top} packages:")
    print(f"    {'package':<28}{'own ms':>9}{'cumulative ms':>15}")
    ranked = sorted(packages.items(), key=lambda kv: kv[1][0], reverse=True)
    for name, (own, cumulative) in ranked[: args.top]:
        print(f"    {name:<28}{own:9.1f}{cumulative:15.1f}")
    print(f"    {'(all)':<28}{sum(own for own, _ in packages.values()):9.1f}")
    print("  slowest single modules (self ms, the module's own code and what it runs):")
    for name, ms in sorted(modules.items(), key=lambda kv: kv[1], reverse=True)[:8]:
        print(f"    {name:<52}{ms:7.1f}")


if __name__ == "__main__":
    main()
