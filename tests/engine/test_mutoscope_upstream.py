"""Two real ``mutoscope serve`` processes: the second is the first one's inference engine.

The first server's ``models.toml`` declares ``remote-test`` (``family = "openai-videos"``)
pointing at the second, which makes the clip with its test-pattern model. The official
``openai`` SDK drives the first server end to end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from importlib.metadata import entry_points

import openai
import pytest

from mutoscope.media import probe
from mutoscope.provenance.credentials import read_credentials
from tests.e2e.conftest import Server, make_server
from tests.servers import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")]

MODELS_TOML = """
[[models]]
id = "remote-test"
family = "openai-videos"
engine = "mutoscope"
base_url = "{upstream}/v1"
upstream_model = "mutoscope-test"
api_key_env = "ENGINE_API_KEY"
sizes = ["256x256", "320x180"]
seconds = ["4", "16"]
poll_interval = 0.5
retries = 2
retry_base_delay = 0.05

[[models]]
id = "dead-engine"
family = "openai-videos"
base_url = "http://127.0.0.1:{dead_port}/v1"
sizes = ["256x256"]
retries = 3
retry_base_delay = 0.05
"""


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    # 8 steps x 0.3 s: slow enough to cancel a job while it runs there.
    srv = make_server(
        tmp_path_factory.mktemp("upstream"),
        MUTOSCOPE_TEST_STEP_SECONDS="0.3",
        MUTOSCOPE_POLL_AFTER_MS="100",
    )
    srv.start()
    key = srv.cli("keys", "create", "--user", "engine", "--name", "downstream")
    yield srv, key
    srv.stop()


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory, upstream) -> Iterator[Server]:
    installed = {ep.name for ep in entry_points(group="mutoscope.backends")}
    assert "engines" in installed, "reinstall the package (pip install -e .): new entry point"
    engine, key = upstream
    home = tmp_path_factory.mktemp("front")
    models = home / "models.toml"
    models.write_text(MODELS_TOML.format(upstream=engine.url, dead_port=free_port()))
    # A short lease: a deleted video's job notices within half a second (default 5 s).
    env = {"MUTOSCOPE_MODELS_FILE": str(models), "ENGINE_API_KEY": key}
    srv = make_server(home, MUTOSCOPE_LEASE_SECONDS="1.5", **env)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(front: Server) -> openai.OpenAI:
    key = front.cli("keys", "create", "--user", "alice", "--name", "sdk")
    return openai.OpenAI(base_url=f"{front.url}/v1", api_key=key, max_retries=0)


@pytest.fixture(scope="module")
def engine_client(upstream) -> openai.OpenAI:
    engine, key = upstream
    return openai.OpenAI(base_url=f"{engine.url}/v1", api_key=key, max_retries=0)


@pytest.fixture(scope="module")
def finished(client: openai.OpenAI) -> openai.types.Video:
    video = client.videos.create_and_poll(
        prompt="a green square drifting", model="remote-test", size="256x256", poll_interval_ms=200
    )
    assert video.status == "completed", video.error
    return video


def upstream_video(engine_client: openai.OpenAI, prompt: str) -> openai.types.Video:
    matches = [v for v in engine_client.videos.list(limit=100) if v.prompt == prompt]
    assert len(matches) == 1, [v.prompt for v in engine_client.videos.list(limit=100)]
    return matches[0]


def test_engine_video_completes_downloads_and_names_the_engine(client, engine_client, finished):
    data = client.videos.download_content(finished.id).read()
    info = probe(data)
    assert (info.width, info.height, info.frame_count) == (256, 256, 96)
    # Made upstream by its model, then signed here naming the engine and the upstream model
    made = upstream_video(engine_client, "a green square drifting")
    assert made.status == "completed" and made.model == "mutoscope-test"
    report = read_credentials(data)
    assert report.present and report.valid
    (action,) = report.summary["actions"]
    assert action["parameters"]["model"] == "remote-test"
    assert action["parameters"]["engine"] == {
        "engine": "mutoscope",
        "backend": "remote-test",
        "upstream_model": "mutoscope-test",
        "upstream_video_id": made.id,
    }


def test_remix_passes_through_to_the_engines_copy(client, engine_client, finished):
    remix = client.videos.remix(finished.id, prompt="the green square, now at night")
    done = client.videos.poll(remix.id, poll_interval_ms=200)
    assert done.status == "completed", done.error
    assert done.remixed_from_video_id == finished.id
    made = upstream_video(engine_client, "the green square, now at night")
    parent = upstream_video(engine_client, "a green square drifting")
    assert made.remixed_from_video_id == parent.id


def test_deleting_a_running_video_deletes_it_on_the_engine(client, engine_client):
    video = client.videos.create(prompt="a slow blue circle", model="remote-test", size="256x256")
    deadline = time.time() + 30
    while True:  # wait until the engine is working on it
        running = [v for v in engine_client.videos.list() if v.prompt == "a slow blue circle"]
        if running and running[0].status == "in_progress":
            break
        assert time.time() < deadline, "the engine never started the job"
        time.sleep(0.1)
    client.videos.delete(video.id)
    while True:
        try:
            engine_client.videos.retrieve(running[0].id)
        except openai.NotFoundError:
            break
        assert time.time() < deadline, "the engine's job outlived the deleted video"
        time.sleep(0.1)


def test_an_engine_refusal_fails_the_video_with_its_message(client):
    # The front accepts 16 s for this model; the engine does not, and says so.
    video = client.videos.create_and_poll(
        prompt="too long", model="remote-test", size="256x256", seconds="16", poll_interval_ms=200
    )
    assert video.status == "failed" and video.error is not None
    assert video.error.code == "engine_rejected"
    assert 'seconds must be one of "4", "8", "12"' in video.error.message


def test_a_dead_engine_fails_the_video_with_engine_unavailable(client):
    video = client.videos.create_and_poll(
        prompt="nobody home", model="dead-engine", size="256x256", poll_interval_ms=200
    )
    assert video.status == "failed" and video.error is not None
    assert video.error.code == "engine_unavailable"
    assert "3 tries" in video.error.message and "127.0.0.1" not in video.error.message


def test_engine_models_are_listed(client):
    ids = {m.id for m in client.models.list()}
    assert {"remote-test", "dead-engine"} <= ids


def test_extend_continues_on_the_engine_from_the_last_frame(client, engine_client, finished):
    extended = client.post(
        "/videos/extensions",
        body={"prompt": "the square keeps drifting", "video": {"id": finished.id}, "seconds": "4"},
        cast_to=openai.types.Video,
    )
    done = client.videos.poll(extended.id, poll_interval_ms=200)
    assert done.status == "completed", done.error
    info = probe(client.videos.download_content(done.id).read())
    assert info.frame_count == 96 + 96  # the parent, then the engine's 4 s
    made = upstream_video(engine_client, "the square keeps drifting")
    assert made.status == "completed"  # an image-to-video job there, from the last frame
