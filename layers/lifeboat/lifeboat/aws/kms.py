"""KMS key checks made before any copy is started."""

from __future__ import annotations

from lifeboat.aws.clients import ClientProvider
from lifeboat.aws.errors import translated
from lifeboat.errors import KmsKeyNotUsable

_KMS_ERRORS = {
    "NotFoundException": KmsKeyNotUsable,
    "DisabledException": KmsKeyNotUsable,
    "KMSInvalidStateException": KmsKeyNotUsable,
    "InvalidArnException": KmsKeyNotUsable,
    "AccessDeniedException": KmsKeyNotUsable,
}


def resolve_usable_key(clients: ClientProvider, region: str, key_id: str) -> str:
    """Return the key's ARN if it exists in ``region`` and is enabled; else KmsKeyNotUsable."""
    if key_id.startswith("arn:") and f":{region}:" not in key_id:
        raise KmsKeyNotUsable(f"KMS key {key_id} is not in region {region}")
    with translated(_KMS_ERRORS, f"KMS key {key_id} in {region}"):
        metadata = clients("kms", region).describe_key(KeyId=key_id)["KeyMetadata"]
    if metadata.get("KeyState") != "Enabled":
        raise KmsKeyNotUsable(
            f"KMS key {metadata['Arn']} in {region} is {metadata.get('KeyState')}, not Enabled"
        )
    return str(metadata["Arn"])
