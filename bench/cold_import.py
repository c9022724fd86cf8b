"""Cold import time of the Lambda handler next to a bare FastAPI + Mangum + inngest app.

A Lambda cold start pays for `import jobmatch.handler` (settings, the Inngest
client, the FastAPI app with every router and function, Powertools). The
baseline is the least any app on this stack can pay: one FastAPI app serving one
Inngest function through Mangum. Both are timed the same way in the same run:
`import <module>` in a fresh interpreter, timed inside it with perf_counter
(interpreter start-up excluded), N runs each, interleaved, after one discarded
warm-up run each so bytecode caches are written. Medians are reported.

    python bench/cold_import.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

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

PROBE = (
    "import time, importlib; t = time.perf_counter(); importlib.import_module({module!r}); "
    "print(time.perf_counter() - t)"
)


def _env(extra_path: str) -> dict[str, str]:
    """Cloud mode as in Lambda, but no AWS lookups: keys from the environment."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("INNGEST_", "AWS_LAMBDA", "DATABASE_URL"))
    }
    env.update(
        {
            "JOBMATCH_ENV": "dev",
            "INNGEST_DEV": "0",
            "INNGEST_SIGNING_KEY": "signkey-bench-" + "ab" * 32,
            "INNGEST_EVENT_KEY": "bench",
            "PYTHONPATH": os.pathsep.join(p for p in (extra_path, env.get("PYTHONPATH")) if p),
        }
    )
    return env


def time_import(module: str, env: dict[str, str], cwd: str) -> float:
    """Seconds `import module` takes in a fresh interpreter."""
    out = subprocess.run(  # noqa: S603 - fixed interpreter and probe
        [sys.executable, "-c", PROBE.format(module=module)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="cold import benchmark")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "bare_handler.py").write_text(BARE_APP)
        env = _env(tmp)
        subjects = {"jobmatch.handler": str(ROOT), "bare_handler": tmp}
        for module, cwd in subjects.items():
            time_import(module, env, cwd)  # warm-up: write bytecode caches
        samples: dict[str, list[float]] = {module: [] for module in subjects}
        for _ in range(args.runs):
            for module, cwd in subjects.items():
                samples[module].append(time_import(module, env, cwd))

    ours = statistics.median(samples["jobmatch.handler"])
    bare = statistics.median(samples["bare_handler"])
    print(f"cold import, median of {args.runs} fresh interpreters (min in brackets):")
    print(
        f"  jobmatch.handler                 {ours * 1000:8.1f} ms "
        f"[{min(samples['jobmatch.handler']) * 1000:.1f}]"
    )
    print(
        f"  bare FastAPI + Mangum + inngest  {bare * 1000:8.1f} ms "
        f"[{min(samples['bare_handler']) * 1000:.1f}]"
    )
    print(f"  ratio                            {ours / bare:8.2f}x")


if __name__ == "__main__":
    main()
