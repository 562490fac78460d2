"""The measuring machinery of `make bench` shared by bench/run.py and its groups: run one step
as its own process and record its wall time, peak RSS (whole process tree and largest
process, sampled every 0.1 s with psutil), exit status and the machine load around it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BIN = Path(sys.executable).parent
STEPS = [sys.executable, str(ROOT / "bench" / "steps.py")]
DBT = [str(BIN / "dbt")]
DBT_DIRS = ["--project-dir", str(ROOT / "dbt_models"), "--profiles-dir", str(ROOT / "dbt_models")]


def _env_list(name: str, default: str) -> list[str]:
    return [x.strip() for x in os.environ.get(name, default).split(",") if x.strip()]


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def measure(name: str, cmd: list[str], *, env: dict | None = None, log_dir: Path,
            timeout: float | None = None) -> dict:
    """Run ``cmd``; wall time, peak RSS (tree and largest process), exit code, load."""
    full_env = {**os.environ, **(env or {})}
    log = log_dir / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    timeout = timeout or float(os.environ.get("BENCH_TIMEOUT", "3600"))
    load_before = _loadavg()
    print(f"[bench] {name}: {' '.join(cmd)}", flush=True)
    with log.open("w") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=full_env,
                                cwd=ROOT)
        ps = psutil.Process(proc.pid)
        peak_tree = peak_one = 0
        timed_out = False
        while proc.poll() is None:
            try:
                rss = [p.memory_info().rss for p in [ps, *ps.children(recursive=True)]]
                peak_tree = max(peak_tree, sum(rss))
                peak_one = max(peak_one, max(rss))
            except psutil.Error:
                pass
            if time.perf_counter() - t0 > timeout:
                timed_out = True
                for p in [*ps.children(recursive=True), ps]:
                    try:
                        p.kill()
                    except psutil.Error:
                        pass
                proc.wait()
                break
            time.sleep(0.1)
        wall = time.perf_counter() - t0
    text = log.read_text(errors="replace")
    own = {}
    for line in reversed(text.splitlines()):
        if line.startswith("BENCH "):
            own = json.loads(line[6:])
            break
    r = {
        "step": name, "wall_s": round(wall, 2), "exit_code": proc.returncode,
        "ok": proc.returncode == 0 and not timed_out, "timed_out": timed_out,
        "peak_rss_tree_mb": round(peak_tree / 2**20), "peak_rss_max_process_mb":
        round(peak_one / 2**20), "loadavg_before": load_before, "loadavg_after": _loadavg(),
        "log": str(log), **({"own": own} if own else {}),
    }
    if not r["ok"]:
        tail = text.strip().splitlines()[-5:]
        r["error_tail"] = tail
        oom = proc.returncode in (-9, 137) and not timed_out
        r["note"] = "killed (out of memory?)" if oom else ("timeout" if timed_out else "failed")
    print(f"[bench] {name}: {r['wall_s']} s, peak {r['peak_rss_tree_mb']} MB, "
          f"exit {proc.returncode}", flush=True)
    return r


def _fresh(path: Path) -> Path:
    if path.is_dir():
        shutil.rmtree(path)
    path.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _mlcost_env(work: Path) -> dict:
    return {"DAGSTER_HOME": str(_fresh(work / "dagster_home")), "MLCOST_LOG_LEVEL": "WARNING"}
