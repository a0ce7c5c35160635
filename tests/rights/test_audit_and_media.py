from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import update

from mutoscope.errors import OutputBlocked, PromptRejected
from mutoscope.media.video import decode_mp4, encode_mp4
from mutoscope.rights.records import AuditRecord
from mutoscope.rights.service import RightsService
from mutoscope.worker.hooks import ScreenRequest
from tests.rights.conftest import textured_clip


def test_audit_log_verifies_and_names_the_first_tampered_row(service: RightsService) -> None:
    for p in ["a cat", "Exmouse", "a dog", "a bird"]:
        service.check_prompt(p, user_id="u")
    assert service.audit.verify() is None
    with service.sessions() as s:
        s.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(decision="allow"))
        s.commit()
    broken = service.audit.verify()
    assert broken is not None and broken.seq == 2


def test_deleting_an_audit_row_is_detected(service: RightsService) -> None:
    for p in ["a cat", "a dog", "a bird"]:
        service.check_prompt(p, user_id="u")
    with service.sessions() as s:
        s.query(AuditRecord).filter(AuditRecord.seq == 2).delete()
        s.commit()
    broken = service.audit.verify()
    assert broken is not None and broken.seq == 2


def test_output_copying_a_registered_reference_fails_with_evidence(
    service: RightsService, tmp_path
) -> None:
    path = tmp_path / "copy.mp4"
    frames = textured_clip(1)
    small = np.stack(
        [
            np.asarray(Image.fromarray(f).resize((128, 128), Image.Resampling.BILINEAR))
            for f in frames
        ]
    )
    encode_mp4(small, path, crf=35)
    with pytest.raises(OutputBlocked) as info:
        service.check_output(video_id="video_1", user_id="u", frames=decode_mp4(path))
    assert info.value.code == "moderation_blocked"
    assert info.value.evidence["entity_id"] == "example-mouse"
    assert info.value.evidence["matched_fraction"] >= 0.5


def test_flipped_copy_is_caught_and_unrelated_clip_passes(service: RightsService) -> None:
    with pytest.raises(OutputBlocked):
        service.check_output(video_id="v", user_id="u", frames=textured_clip(1)[:, :, ::-1].copy())
    service.check_output(video_id="v2", user_id="u", frames=textured_clip(99))
    rows = list(service.audit.rows())
    assert [r.decision for r in rows if r.check == "output"] == ["block", "allow"]


def test_reference_image_of_a_protected_entity_is_rejected(service: RightsService) -> None:
    image = Image.fromarray(textured_clip(1)[5])
    with pytest.raises(PromptRejected) as info:
        service.screen_request(ScreenRequest(prompt="make it move", user_id="u", image=image))
    assert info.value.param == "input_reference"


def test_own_outputs_are_found_by_reverse_search(service: RightsService) -> None:
    service.index_output(video_id="video_a", frames=textured_clip(5))
    service.index_output(video_id="video_b", frames=textured_clip(6))
    found = service.match_outputs(textured_clip(6)[4:20])
    assert [m.video_id for m in found] == ["video_b"]
    assert service.match_outputs(textured_clip(7)) == []


def test_remix_of_a_video_copying_a_reference_is_rejected(service: RightsService) -> None:
    path = service.files.path("video_parent", "video")
    path.parent.mkdir(parents=True, exist_ok=True)
    encode_mp4(textured_clip(1), path, crf=28)
    with pytest.raises(PromptRejected) as info:
        service.screen_request(
            ScreenRequest(prompt="make it rain", user_id="u", source_video_id="video_parent")
        )
    assert info.value.param == "video_id"
    assert [r.check for r in service.audit.rows()] == ["prompt", "reference"]


def test_flat_logo_reference_is_matched_despite_low_pdq_quality(
    service: RightsService, tmp_path
) -> None:
    from mutoscope.rights.registry import EntitySpec

    logo = np.full((256, 256, 3), 230, np.uint8)
    logo[80:176, 60:196] = (200, 20, 30)  # a red badge on white
    Image.fromarray(logo).save(tmp_path / "logo.png")
    service.import_specs(
        [
            EntitySpec(
                id="badge",
                name="Badge Co",
                kind="brand",
                owner="Badge Inc",
                references=[str(tmp_path / "logo.png")],
            )
        ]
    )
    clip = np.stack([logo] * 12)
    encode_mp4(clip, tmp_path / "copy.mp4", crf=30)
    with pytest.raises(OutputBlocked) as info:
        service.check_output(video_id="v", user_id="u", frames=decode_mp4(tmp_path / "copy.mp4"))
    assert info.value.evidence["entity_id"] == "badge"
    other = np.full((12, 256, 256, 3), 30, np.uint8)
    other[:, 20:120, 150:240] = (20, 200, 40)
    service.check_output(video_id="v2", user_id="u", frames=other)
