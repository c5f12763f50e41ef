"""The object-store adapters: S3 against weed mini (versioning on), and the local folder."""

from __future__ import annotations

import hashlib
import urllib.request
import uuid
from pathlib import Path

import pytest

from services.common.storage import FilesystemObjectStore, ObjectNotFound, S3ObjectStore


@pytest.fixture(params=["s3", "filesystem"])
def store(request, tmp_path: Path):
    if request.param == "s3":
        return S3ObjectStore(request.getfixturevalue("s3_settings"))
    return FilesystemObjectStore(tmp_path / "objects")


def test_put_never_overwrites_a_version_silently(store):
    key = f"reports/{uuid.uuid4()}/report.docx"
    first = store.put(key, b"version one", "application/octet-stream")
    second = store.put(key, b"version two", "application/octet-stream")

    assert first.version_id != second.version_id
    assert store.get(key) == b"version two"
    assert store.get(key, first.version_id) == b"version one"
    assert [v.version_id for v in store.list_versions(key)] == [second.version_id, first.version_id]


def test_stat_reports_sha256_size_and_media_type(store):
    key = f"artifacts/{uuid.uuid4()}.docx"
    data = b"PK\x03\x04 not really a docx" * 100
    stored = store.put(key, data, "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    info = store.stat(key, stored.version_id)
    assert info.sha256 == hashlib.sha256(data).hexdigest() == stored.sha256
    assert info.size == len(data)
    assert info.content_type.startswith("application/vnd.openxmlformats")


def test_missing_objects_raise_object_not_found(store):
    with pytest.raises(ObjectNotFound):
        store.get(f"missing/{uuid.uuid4()}")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a//b", ""])
def test_hostile_keys_are_refused(store, key):
    with pytest.raises(ValueError):
        store.put(key, b"x", "text/plain")


@pytest.mark.s3
def test_s3_bucket_is_created_with_versioning_and_presigned_links_work(s3_settings):
    store = S3ObjectStore(s3_settings)
    key = f"public/{uuid.uuid4()}.txt"
    stored = store.put(key, "zażółć gęślą jaźń".encode(), "text/plain; charset=utf-8")
    assert store.client.get_bucket_versioning(s3_settings.bucket).status == "Enabled"
    url = store.presigned_get(key, stored.version_id)
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read().decode() == "zażółć gęślą jaźń"
    store.ping()


@pytest.mark.s3
def test_an_unreachable_s3_is_storage_unavailable_so_builds_retry_instead_of_failing(s3_settings):
    from dataclasses import replace

    from services.common.storage import StorageUnavailable
    from tests.support.infra import TcpProxy

    host, port = s3_settings.endpoint.rsplit(":", 1)
    proxy = TcpProxy(host, int(port))
    try:
        store = S3ObjectStore(replace(s3_settings, endpoint=f"127.0.0.1:{proxy.port}"))
        key = f"outage/{uuid.uuid4()}.docx"
        stored = store.put(key, b"before the outage", "application/octet-stream")
        proxy.cut()
        with pytest.raises(StorageUnavailable):
            store.put(key, b"during the outage", "application/octet-stream")
        with pytest.raises(StorageUnavailable):
            store.get(key, stored.version_id)
        proxy.restore()
        assert store.get(key, stored.version_id) == b"before the outage"
    finally:
        proxy.close()
