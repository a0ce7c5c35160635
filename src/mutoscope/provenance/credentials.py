"""C2PA Content Credentials: write a manifest into an MP4 and read one back (c2pa-python)."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import c2pa

from mutoscope import __version__
from mutoscope.provenance.keys import SigningMaterial
from mutoscope.worker.hooks import ProvenanceInfo

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
WATERMARK_ALG = "io.mutoscope.watermark.v5"
GENERATION_LABEL = "io.mutoscope.generation"
ATTRIBUTION_LABEL = "io.mutoscope.attributions"
CHARACTERS_LABEL = "io.mutoscope.characters"
MP4 = "video/mp4"


def software_agent() -> str:
    return f"Mutoscope {__version__}"


def build_manifest(info: ProvenanceInfo) -> dict[str, Any]:
    """The manifest definition for one video (remix/extend name the parent ingredient)."""
    agent = {"name": software_agent(), "version": __version__}
    params: dict[str, Any] = {"model": info.model, "mode": info.mode}
    if info.engine:
        params["engine"] = info.engine
    if info.parent_path is not None:
        actions: list[dict[str, Any]] = [
            {"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}},
            {
                "action": "c2pa.edited",
                "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                "softwareAgent": agent,
                "description": f"{info.mode} of {info.parent_video_id or 'a parent video'}",
                "parameters": params,
            },
        ]
    else:
        actions = [
            {
                "action": "c2pa.created",
                "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                "softwareAgent": agent,
                "parameters": params,
            }
        ]
    assertions: list[dict[str, Any]] = [
        {"label": "c2pa.actions", "data": {"actions": actions}},
        {
            "label": GENERATION_LABEL,
            "data": {
                "video_id": info.video_id,
                "model": info.model,
                "mode": info.mode,
                "created_at": info.created_at,
                "parent_video_id": info.parent_video_id,
                **({"engine": info.engine} if info.engine else {}),
                "verify": "mutoscope verify FILE  |  POST /v1/provenance/verify",
            },
        },
    ]
    if info.watermark_payload:
        assertions.append(
            {
                "label": "c2pa.soft-binding",
                "data": {
                    "alg": WATERMARK_ALG,
                    "blocks": [{"scope": {}, "value": info.watermark_payload}],
                },
            }
        )
    if info.attributions:
        assertions.append({"label": ATTRIBUTION_LABEL, "data": {"entities": info.attributions}})
    if info.characters:
        # Each character's owner consented to this use (they co-own the video).
        assertions.append({"label": CHARACTERS_LABEL, "data": {"characters": info.characters}})
    return {
        "claim_generator_info": [{"name": "Mutoscope", "version": __version__}],
        "title": f"{info.video_id}.mp4",
        "format": MP4,
        "assertions": assertions,
    }


def sign_mp4(path: Path, info: ProvenanceInfo, material: SigningMaterial) -> None:
    """Embed a signed manifest in ``path`` (atomically replaced)."""
    signer = c2pa.Signer.from_info(
        c2pa.C2paSignerInfo(
            c2pa.C2paSigningAlg.ES256,
            material.cert_chain,
            material.private_key,
            material.timestamp_url,
        )
    )
    builder = c2pa.Builder(build_manifest(info))
    if info.parent_path is not None:
        with open(info.parent_path, "rb") as parent:
            builder.add_ingredient(
                {
                    "title": f"{info.parent_video_id or Path(info.parent_path).stem}.mp4",
                    "relationship": "parentOf",
                    "label": "parent",
                    "instance_id": info.parent_video_id or Path(info.parent_path).stem,
                },
                MP4,
                parent,
            )
    tmp = path.with_name(path.name + ".c2pa.tmp")
    try:
        with open(path, "rb") as src, open(tmp, "w+b") as dst:
            builder.sign(signer, MP4, src, dst)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        builder.close()
        signer.close()


@dataclass
class CredentialsReport:
    """What the reference reader says about a file's Content Credentials."""

    present: bool = False
    valid: bool = False
    trusted: bool = False
    state: str | None = None
    """c2pa's validation state: ``Invalid`` | ``Valid`` | ``Trusted``."""
    failures: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "present": self.present,
            "valid": self.valid,
            "trusted": self.trusted,
            "state": self.state,
            "failures": self.failures,
            "summary": self.summary,
            "error": self.error,
        }


def read_credentials(data: bytes | BinaryIO, *, trust_anchors: bytes = b"") -> CredentialsReport:
    """Validate a file's manifest with ``trust_anchors`` (PEM) as the trust list."""
    config: dict[str, Any] = {"verify": {"verify_trust": True}}
    if trust_anchors:
        config["trust"] = {"trust_anchors": trust_anchors.decode()}
    context = c2pa.Context(c2pa.Settings.from_dict(config))
    try:
        stream = io.BytesIO(data) if isinstance(data, bytes) else data
        reader = c2pa.Reader.try_create(MP4, stream, None, context)
    except c2pa.C2paError as exc:  # damaged JUMBF, unsupported container, ...
        return CredentialsReport(present=True, state="Invalid", error=str(exc))
    if reader is None:
        return CredentialsReport()
    with reader:
        state = reader.get_validation_state() or "Invalid"
        results = reader.get_validation_results() or {}
        manifest = reader.get_active_manifest() or {}
        store = json.loads(reader.json())
    failures = [f"{f.get('code')}: {f.get('explanation', '')}" for f in _failures(results)]
    untrusted_only = all("signingCredential.untrusted" in f for f in failures)
    return CredentialsReport(
        present=True,
        valid=state in ("Valid", "Trusted") or (bool(failures) and untrusted_only),
        trusted=state == "Trusted",
        state=state,
        failures=failures,
        summary=summarize(manifest, store),
    )


def _failures(results: dict[str, Any]) -> list[dict[str, Any]]:
    active = results.get("activeManifest") or {}
    out = list(active.get("failure") or [])
    for delta in results.get("ingredientDeltas") or []:
        out.extend((delta.get("validationDeltas") or {}).get("failure") or [])
    return out


def summarize(manifest: dict[str, Any], store: dict[str, Any] | None = None) -> dict[str, Any]:
    """A readable digest of the active manifest: who signed, what happened, from what."""
    assertions = {a.get("label", ""): a.get("data") for a in manifest.get("assertions") or []}
    actions = []
    for label, data in assertions.items():
        if label.startswith("c2pa.actions") and isinstance(data, dict):
            for act in data.get("actions") or []:
                agent = act.get("softwareAgent")
                actions.append(
                    {
                        "action": act.get("action"),
                        "digital_source_type": act.get("digitalSourceType"),
                        "software_agent": agent.get("name") if isinstance(agent, dict) else agent,
                        "description": act.get("description"),
                        "parameters": {
                            k: v
                            for k, v in (act.get("parameters") or {}).items()
                            if k not in ("ingredients", "ingredientIds")
                        },
                    }
                )
    soft = assertions.get("c2pa.soft-binding") or {}
    sig = manifest.get("signature_info") or {}
    return {
        "label": manifest.get("label"),
        "title": manifest.get("title"),
        "claim_generator": [
            f"{g.get('name')} {g.get('version', '')}".strip()
            for g in manifest.get("claim_generator_info") or []
        ],
        "signer": {
            "issuer": sig.get("issuer"),
            "common_name": sig.get("common_name"),
            "time": sig.get("time"),
            "alg": sig.get("alg"),
        },
        "actions": actions,
        "ai_generated": any(
            a.get("digital_source_type") == TRAINED_ALGORITHMIC_MEDIA for a in actions
        ),
        "ingredients": [
            {
                "title": ing.get("title"),
                "relationship": ing.get("relationship"),
                "instance_id": ing.get("instance_id"),
                "has_manifest": bool(ing.get("active_manifest")),
            }
            for ing in manifest.get("ingredients") or []
        ],
        "soft_binding": {
            "alg": soft.get("alg"),
            "value": ((soft.get("blocks") or [{}])[0]).get("value"),
        }
        if soft
        else None,
        "generation": assertions.get(GENERATION_LABEL),
        "attributions": (assertions.get(ATTRIBUTION_LABEL) or {}).get("entities", []),
        "characters": (assertions.get(CHARACTERS_LABEL) or {}).get("characters", []),
        "manifests_in_store": len((store or {}).get("manifests") or {}),
    }
