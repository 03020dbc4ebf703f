"""OCI Distribution registry client: resolve tags to digests, read verified manifests, copy images.

Knows nothing of Temporal; its errors (registry.errors) are mapped to activity errors by the activities.
"""

from rollwright.registry.client import Manifest, RegistryClient, ResolvedManifest
from rollwright.registry.config import BasicCredentials, ConnectRetries, RegistryClientConfig, Timeouts
from rollwright.registry.copy import CopyResult, copy_image
from rollwright.registry.errors import (
    DigestMismatchError,
    InvalidReferenceError,
    NotFoundError,
    RegistryAuthError,
    RegistryError,
    RegistryProtocolError,
    RegistryUnavailableError,
)
from rollwright.registry.reference import ImageReference, parse_reference, parse_repository

__all__ = [
    "BasicCredentials",
    "ConnectRetries",
    "CopyResult",
    "DigestMismatchError",
    "ImageReference",
    "InvalidReferenceError",
    "Manifest",
    "NotFoundError",
    "RegistryAuthError",
    "RegistryClient",
    "RegistryClientConfig",
    "RegistryError",
    "RegistryProtocolError",
    "RegistryUnavailableError",
    "ResolvedManifest",
    "Timeouts",
    "copy_image",
    "parse_reference",
    "parse_repository",
]
