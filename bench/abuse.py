"""Hostile inputs against a real server: does it stay responsive, and how much memory do they cost?

Starts ``mutoscope serve`` (one process, test backend, one in-process worker) and prints:

1. ``/healthz`` latency (p50, p99, max) while 4 clients keep posting image bombs (17 KB PNGs
   that claim 12000x12000 pixels) and one client posts a 20 MB registry import;
2. the server's peak RSS above idle during one 500 MB ``POST /v1/provenance/verify`` upload
   (a real MP4 padded to 500 MB, streamed from disk);
3. the server's peak RSS above idle during one extension of a 12-second 1792x1024 video
   (accept + the worker's job), with ``--extend``.

    python bench/abuse.py [--verify-mb 500] [--import-mb 20] [--extend]

Peak RSS is the kernel's high-water mark (``VmHWM``), reset before each phase through
``/proc/PID/clear_refs``; targets: p99 <= 100 ms, verify <= 64 MB, extend <= 2 GB.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.api.test_hardening import png_bomb
from tests.e2e.conftest import Server, make_server


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for {pid}")


def reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class PeakWatcher:
    """Polls RSS as a fallback where ``clear_refs`` is not writable."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self.exact = reset_peak(pid)
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.01)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return max(self.peak, rss_mb(self.pid, "VmHWM")) if self.exact else self.peak


def registry_yaml(megabytes: int) -> bytes:
    """A registry file of about ``megabytes`` MB: entities with long descriptions."""
    lines = ["entities:"]
    size, n = 0, 0
    filler = "A character described at length for the bench. " * 200  # ~10 KB
    while size < megabytes * 1_000_000:
        entry = (
            f"  - id: bench-entity-{n}\n    name: Bench Entity {n}\n    kind: character\n"
            f"    owner: Bench Studio\n    description: {filler}\n"
        )
        lines.append(entry.rstrip("\n"))
        size += len(entry)
        n += 1
    return ("\n".join(lines) + "\n").encode()


def healthz_under_attack(server: Server, key: str, import_mb: int) -> dict:
    auth = {"Authorization": f"Bearer {key}"}
    bomb = png_bomb(12_000, 12_000)
    yaml_body = registry_yaml(import_mb)
    stop = threading.Event()
    outcomes: dict[str, list] = {"bombs": [], "import": []}

    def bomber() -> None:
        with httpx.Client(base_url=server.url, headers=auth, timeout=120) as client:
            while not stop.is_set():
                r = client.post(
                    "/v1/videos",
                    data={"prompt": "a red circle", "size": "320x180"},
                    files={"input_reference": ("bomb.png", bomb, "image/png")},
                )
                outcomes["bombs"].append(r.status_code)

    def importer() -> None:
        with httpx.Client(base_url=server.url, headers=auth, timeout=600) as client:
            started = time.perf_counter()
            r = client.post(
                "/v1/rights/import",
                content=yaml_body,
                headers={"content-type": "application/yaml"},
            )
            outcomes["import"].append((r.status_code, time.perf_counter() - started))

    threads = [threading.Thread(target=bomber) for _ in range(4)]
    threads.append(threading.Thread(target=importer))
    latencies = []
    with httpx.Client(base_url=server.url, timeout=30) as probe:
        baseline = []
        for _ in range(200):  # the same probe with nothing else running
            started = time.perf_counter()
            probe.get("/healthz").raise_for_status()
            baseline.append((time.perf_counter() - started) * 1000)
            time.sleep(0.01)
        for t in threads:
            t.start()
        while threads[-1].is_alive():
            started = time.perf_counter()
            probe.get("/healthz").raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(0.01)
    stop.set()
    for t in threads:
        t.join()
    latencies.sort()
    baseline.sort()
    return {
        "quiet_p99_ms": round(baseline[int(len(baseline) * 0.99)], 1),
        "probes": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1),
        "max_ms": round(latencies[-1], 1),
        "bombs_sent": len(outcomes["bombs"]),
        "bomb_statuses": sorted(set(outcomes["bombs"])),
        "import_status": outcomes["import"][0][0],
        "import_seconds": round(outcomes["import"][0][1], 1),
        "import_bytes": len(yaml_body),
    }


def padded_video(megabytes: int) -> Path:
    from mutoscope.media import encode_mp4

    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (48, 180, 320, 3), dtype=np.uint8)
    path = Path(tempfile.mkdtemp()) / "padded.mp4"
    encode_mp4(frames, path, fps=24)
    with path.open("ab") as f:
        chunk = b"\0" * (1 << 20)
        while f.tell() < megabytes * (1 << 20):
            f.write(chunk)
    return path


def verify_memory(server: Server, megabytes: int) -> dict:
    assert server.proc is not None
    path = padded_video(megabytes)
    # One small verification first: the detector's code and tables load on first use, which
    # is start-up cost, not the cost of a large upload.
    with path.open("rb") as f, httpx.Client(base_url=server.url, timeout=600) as client:
        head = f.read(2 << 20)
        client.post("/v1/provenance/verify", files={"file": ("head.mp4", head, "video/mp4")})
    time.sleep(1.0)
    idle = rss_mb(server.proc.pid)
    watcher = PeakWatcher(server.proc.pid)
    started = time.perf_counter()
    with path.open("rb") as f, httpx.Client(base_url=server.url, timeout=600) as client:
        r = client.post("/v1/provenance/verify", files={"file": ("padded.mp4", f, "video/mp4")})
    peak = watcher.stop()
    path.unlink()
    return {
        "status": r.status_code,
        "upload_mb": megabytes,
        "seconds": round(time.perf_counter() - started, 1),
        "idle_rss_mb": round(idle),
        "peak_above_idle_mb": round(peak - idle, 1),
        "exact_peak": watcher.exact,
    }


def extend_memory(server: Server, key: str) -> dict:
    assert server.proc is not None
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=server.url, headers=auth, timeout=600) as client:
        parent = client.post(
            "/v1/videos", json={"prompt": "a red circle", "size": "1792x1024", "seconds": "12"}
        ).json()
        _wait(client, parent["id"])
        time.sleep(1.0)
        idle = rss_mb(server.proc.pid)
        watcher = PeakWatcher(server.proc.pid)
        child = client.post(
            "/v1/videos/extensions",
            json={"video": {"id": parent["id"]}, "prompt": "it keeps moving", "seconds": "4"},
        ).json()
        done = _wait(client, child["id"])
        peak = watcher.stop()
    return {
        "status": done["status"],
        "idle_rss_mb": round(idle),
        "peak_above_idle_mb": round(peak - idle),
        "exact_peak": watcher.exact,
    }


def _wait(client: httpx.Client, video_id: str) -> dict:
    deadline = time.time() + 900
    while time.time() < deadline:
        body = client.get(f"/v1/videos/{video_id}").json()
        if body["status"] in ("completed", "failed"):
            return body
        time.sleep(0.5)
    raise RuntimeError(f"{video_id} did not finish")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verify-mb", type=int, default=500)
    parser.add_argument("--import-mb", type=int, default=20)
    parser.add_argument("--extend", action="store_true", help="also measure a 12-s extend")
    args = parser.parse_args()

    server = make_server(Path(tempfile.mkdtemp(prefix="mutoscope-abuse-")))
    server.cli("users", "create", "bench", "--admin", "--password", "bench-password-1")
    key = json.loads(server.cli("keys", "create", "--user", "bench", "--json"))["key"]
    server.env["MUTOSCOPE_RATE_LIMITS"] = "false"
    server.start()
    try:
        time.sleep(3)  # let background warm-up finish before measuring
        results = {"healthz": healthz_under_attack(server, key, args.import_mb)}
        print(json.dumps(results["healthz"]), flush=True)
        results["verify"] = verify_memory(server, args.verify_mb)
        print(json.dumps(results["verify"]), flush=True)
        if args.extend:
            results["extend"] = extend_memory(server, key)
            print(json.dumps(results["extend"]), flush=True)
    finally:
        server.stop()
    h, v = results["healthz"], results["verify"]
    print(
        f"/healthz under 4 image bombs + a {h['import_bytes'] / 1e6:.0f} MB import: "
        f"p50 {h['p50_ms']} ms, p99 {h['p99_ms']} ms (target <= 100), max {h['max_ms']} ms "
        f"(quiet p99 {h['quiet_p99_ms']} ms)"
    )
    print(
        f"verify of a {v['upload_mb']} MB upload: peak RSS {v['peak_above_idle_mb']} MB above "
        "idle (target <= 64)"
    )
    if "extend" in results:
        e = results["extend"]
        print(
            f"extend of a 12-s 1792x1024 clip: peak RSS {e['peak_above_idle_mb']} MB above idle "
            "(target <= 2048)"
        )


if __name__ == "__main__":
    main()
