"""The API on an S3 store: downloads stream or redirect, and a delete removes the objects."""

from __future__ import annotations

import boto3
import httpx
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import wait_done


@pytest.fixture
def s3_client(settings, s3_bucket):
    from mutoscope.api.app import create_app
    from mutoscope.backends.registry import load_backends
    from mutoscope.backends.testing import register_backends
    from mutoscope.services import build_services
    from mutoscope.worker.hooks import NullProvenance, NullRights

    settings.storage_url = f"s3://{s3_bucket}/media"
    services = build_services(
        settings,
        backends=load_backends(settings, hooks=[register_backends]),
        rights=NullRights(),
        provenance=NullProvenance(),
    )
    with TestClient(create_app(settings, services=services, keyless=True)) as client:
        yield client, services
    services.close()


def keys(bucket: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket)
    return sorted(obj["Key"].rsplit("/", 1)[-1] for obj in listed.get("Contents", []))


def test_videos_live_in_the_bucket_and_download_through_the_api(s3_client, s3_bucket):
    client, services = s3_client
    vid = client.post("/v1/videos", data={"prompt": "to the cloud", "size": "256x256"}).json()
    assert wait_done(client, vid["id"])["status"] == "completed"
    assert keys(s3_bucket) == ["spritesheet.jpg", "thumbnail.jpg", "video.mp4"]
    streamed = client.get(f"/v1/videos/{vid['id']}/content")
    assert streamed.status_code == 200 and streamed.content[4:8] == b"ftyp"
    assert streamed.headers["content-type"] == "video/mp4"

    services.settings.storage_redirect = True
    redirect = client.get(f"/v1/videos/{vid['id']}/content", follow_redirects=False)
    assert redirect.status_code == 307
    assert httpx.get(redirect.headers["location"]).content == streamed.content

    assert client.delete(f"/v1/videos/{vid['id']}").status_code == 200
    assert keys(s3_bucket) == []
