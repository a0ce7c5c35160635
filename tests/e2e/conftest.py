"""A real ``mutoscope serve`` process on a free loopback port, and SDK clients for it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import openai
import pytest


def wait_video(client: openai.OpenAI, video_id: str, timeout: float = 60) -> openai.types.Video:
    """Poll ``video_id`` until it completes or fails (the SDK's ``poll`` has no deadline)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        video = client.videos.retrieve(video_id)
        if video.status in ("completed", "failed"):
            return video
        time.sleep(0.1)
    raise AssertionError(f"{video_id} did not finish in {timeout:.0f} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    home: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "mutoscope", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    def sdk(self, user: str) -> openai.OpenAI:
        """The official SDK signed in as ``user`` with a fresh API key (no retries)."""
        key = self.cli("keys", "create", "--user", user, "--name", "sdk")
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=key, max_retries=0)

    def start(self) -> None:
        log = open(self.home / f"server-{time.time_ns()}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mutoscope",
                "serve",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 120
        while time.time() < deadline:
            assert self.proc.poll() is None, (self.home / "server.log").read_text()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("server did not start")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()


def make_server(tmp_path: Path, **env: str) -> Server:
    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    full = {
        **os.environ,
        "MUTOSCOPE_HOME": str(home),
        "MUTOSCOPE_ENABLE_TEST_BACKEND": "1",
        "MUTOSCOPE_DEFAULT_MODEL": "mutoscope-test",
        "HF_HUB_OFFLINE": "1",
        "MUTOSCOPE_MODEL_ALIASES": '{"sora-2": "mutoscope-test", "sora-2-pro": "mutoscope-test"}',
        **env,
    }
    return Server(home=home, env=full)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = make_server(tmp_path_factory.mktemp("e2e"))
    srv.start()
    yield srv
    srv.stop()
