"""The object-store port and its two adapters: a local folder (embedded) and S3 (the `minio` client).

Artifacts are never overwritten silently: every put creates a new version, and
the version id is recorded by the caller next to the sha256.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator, Protocol

from services.common.settings import S3Settings, Settings

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,500}$")


class ObjectNotFound(KeyError):
    pass


class StorageUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class StoredObject:
    key: str
    version_id: str
    sha256: str
    size: int
    content_type: str


def _check_key(key: str) -> str:
    if not _KEY.match(key) or ".." in key.split("/") or "//" in key:
        raise ValueError(f"invalid object key: {key!r}")
    return key


class ObjectStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> StoredObject: ...

    def get(self, key: str, version_id: str | None = None) -> bytes: ...

    def stat(self, key: str, version_id: str | None = None) -> StoredObject: ...

    def list_versions(self, key: str) -> list[StoredObject]: ...

    def presigned_get(self, key: str, version_id: str | None = None, expires: timedelta = timedelta(hours=1)) -> str | None: ...

    def ping(self) -> None: ...


class FilesystemObjectStore:
    """Each key is a folder holding one file per version plus a JSON sidecar; writes are atomic renames."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _dir(self, key: str) -> Path:
        return self.root / _check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        folder = self._dir(key)
        folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(data).hexdigest()
        version_id = f"{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S%f')}-{digest[:12]}"
        meta = {"sha256": digest, "size": len(data), "content_type": content_type}
        for name, payload in ((version_id + ".meta", json.dumps(meta).encode()), (version_id, data)):
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
            os.replace(tmp, folder / name)
        return StoredObject(key, version_id, digest, len(data), content_type)

    def _versions(self, key: str) -> list[str]:
        folder = self._dir(key)
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and not p.name.endswith(".meta"))

    def _resolve(self, key: str, version_id: str | None) -> str:
        versions = self._versions(key)
        if not versions or (version_id is not None and version_id not in versions):
            raise ObjectNotFound(key)
        return version_id or versions[-1]

    def get(self, key: str, version_id: str | None = None) -> bytes:
        return (self._dir(key) / self._resolve(key, version_id)).read_bytes()

    def stat(self, key: str, version_id: str | None = None) -> StoredObject:
        version = self._resolve(key, version_id)
        meta = json.loads((self._dir(key) / (version + ".meta")).read_text())
        return StoredObject(key, version, meta["sha256"], meta["size"], meta["content_type"])

    def list_versions(self, key: str) -> list[StoredObject]:
        return [self.stat(key, v) for v in reversed(self._versions(key))]

    def presigned_get(self, key: str, version_id: str | None = None, expires: timedelta = timedelta(hours=1)) -> str | None:
        return None  # served by the owning service's download endpoint instead

    def ping(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise StorageUnavailable(f"{self.root} is not writable")


class S3ObjectStore:
    """S3 with bucket versioning on; the sha256 travels as object metadata."""

    def __init__(self, settings: S3Settings):
        from minio import Minio

        endpoint = settings.endpoint
        secure = settings.secure
        if "://" in endpoint:
            secure = endpoint.startswith("https://")
            endpoint = endpoint.split("://", 1)[1].rstrip("/")
        self.bucket = settings.bucket
        self.client = Minio(endpoint, access_key=settings.access_key, secret_key=settings.secret_key, secure=secure)
        self._bucket_ready = False

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        from minio.versioningconfig import ENABLED, VersioningConfig

        try:
            if not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket)
            if self.client.get_bucket_versioning(self.bucket).status != ENABLED:
                self.client.set_bucket_versioning(self.bucket, VersioningConfig(ENABLED))
        except Exception as exc:  # any failure here means the store cannot be used now
            raise StorageUnavailable(f"S3 bucket {self.bucket} not usable: {exc}") from exc
        self._bucket_ready = True

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        self._ensure_bucket()
        digest = hashlib.sha256(data).hexdigest()
        with _s3_errors(key):
            result = self.client.put_object(
                self.bucket, _check_key(key), io.BytesIO(data), len(data), content_type=content_type,
                metadata={"x-amz-meta-sha256": digest},
            )
        return StoredObject(key, result.version_id or "null", digest, len(data), content_type)

    def get(self, key: str, version_id: str | None = None) -> bytes:
        self._ensure_bucket()
        with _s3_errors(key):
            response = self.client.get_object(self.bucket, _check_key(key), version_id=version_id)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

    def stat(self, key: str, version_id: str | None = None) -> StoredObject:
        self._ensure_bucket()
        with _s3_errors(key):
            info = self.client.stat_object(self.bucket, _check_key(key), version_id=version_id)
        meta = {k.lower(): v for k, v in (info.metadata or {}).items()}
        digest = meta.get("x-amz-meta-sha256", "")
        return StoredObject(key, info.version_id or "null", digest, info.size or 0, info.content_type or "")

    def list_versions(self, key: str) -> list[StoredObject]:
        self._ensure_bucket()
        with _s3_errors(key):
            versions = [obj.version_id for obj in self.client.list_objects(
                self.bucket, prefix=_check_key(key), include_version=True)
                if obj.object_name == key and not obj.is_delete_marker]
        return [self.stat(key, version_id) for version_id in versions]

    def presigned_get(self, key: str, version_id: str | None = None, expires: timedelta = timedelta(hours=1)) -> str | None:
        self._ensure_bucket()
        return self.client.presigned_get_object(self.bucket, _check_key(key), expires=expires, version_id=version_id)

    def ping(self) -> None:
        self._bucket_ready = False
        self._ensure_bucket()


@contextmanager
def _s3_errors(key: str) -> Iterator[None]:
    """Map the client's errors onto the port's: a missing object, or a store that is down (worth a retry)."""
    from minio.error import S3Error
    from urllib3.exceptions import HTTPError

    try:
        yield
    except S3Error as exc:
        if exc.code in {"NoSuchKey", "NoSuchVersion"}:
            raise ObjectNotFound(key) from None
        if exc.code in {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"}:
            raise StorageUnavailable(f"S3 {exc.code} on {key}") from exc
        raise
    except (HTTPError, OSError) as exc:
        raise StorageUnavailable(f"S3 unreachable on {key}: {exc}") from exc


def make_object_store(settings: Settings) -> ObjectStore:
    if settings.s3 is not None:
        return S3ObjectStore(settings.s3)
    return FilesystemObjectStore(settings.data_dir / "objects")
