import hashlib
import io
import os

import pytest

from models import Session
from models.workflow import Attachment, ProcessInstance, ProcessSpec
from tests.conftest import FAST_HASHING
from workflows import files, settings
from workflows.errors import InvalidInput

JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
MB3 = 3 * 1024 * 1024


@pytest.fixture
def upload_dir(app, tmp_path):
    target = tmp_path / "uploads"
    settings.configure({**app.config, **FAST_HASHING, "UPLOAD_DIR": str(target)})
    try:
        yield target
    finally:
        settings.configure({**app.config, **FAST_HASHING})


@pytest.fixture
def owner(users):
    return users("jahosp001")


def store(owner, name, data, **kw):
    return files.store_upload(owner, name, io.BytesIO(data), **kw)


def refused(owner, name, data, **kw):
    with pytest.raises(InvalidInput) as info:
        store(owner, name, data, **kw)
    assert info.value.code == "upload_refused"
    return info.value.message


@pytest.mark.parametrize("name, data, kind", [
    ("photo.jpg", JPG, "image/jpeg"), ("scan.PNG", PNG, "image/png"), ("证明.pdf", PDF, "application/pdf"),
    ("no-extension", PDF, "application/pdf"), ("wrong-extension.png", JPG, "image/jpeg"),
])
def test_accepted_types_are_stored(upload_dir, owner, name, data, kind):
    att = store(owner, name, data)
    assert att.id is not None and att.owner_id == owner.id and att.instance_id is None
    assert att.content_type == kind and att.size == len(data) and att.original_name == name
    assert att.sha256 == hashlib.sha256(data).hexdigest()
    assert len(att.storage_name) == 32 and int(att.storage_name, 16) >= 0
    path = files.attachment_path(att)
    assert path == os.path.join(str(upload_dir), att.storage_name)
    with open(path, "rb") as fh:
        assert fh.read() == data
    assert os.listdir(upload_dir) == [att.storage_name]   # no temporary file left behind
    assert files.get_attachment(att.id) is att


@pytest.mark.parametrize("name, data", [
    ("setup.jpg", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64),
    ("page.png", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
    ("page.pdf", b" %PDF-1.7 not at the start"),
    ("x.gif", b"GIF89a\x01\x00\x01\x00"),
])
def test_other_content_is_refused_whatever_the_name(upload_dir, owner, name, data):
    assert refused(owner, name, data) == "只接受 JPG、PNG 或 PDF 文件"
    assert not upload_dir.exists() or os.listdir(upload_dir) == []
    assert Session.query(Attachment).filter_by(owner_id=owner.id).count() == 0


def test_allowed_kinds_shape_the_message(upload_dir, owner):
    assert refused(owner, "a.jpg", JPG, kinds=("application/pdf",)) == "只接受 PDF 文件"
    assert refused(owner, "a.pdf", PDF, kinds=("image/jpeg", "image/png")) == "只接受 JPG 或 PNG 文件"
    with pytest.raises(ValueError):
        store(owner, "a.gif", JPG, kinds=("image/gif",))


def test_size_limit(upload_dir, owner):
    exact = PDF + b"0" * (MB3 - len(PDF))
    assert store(owner, "big.pdf", exact).size == MB3
    assert refused(owner, "bigger.pdf", exact + b"0") == "文件不能超过 3 MB"
    assert refused(owner, "small.pdf", PDF, max_bytes=10) == "文件不能超过 10 字节"
    assert refused(owner, "half.pdf", exact, max_bytes=MB3 // 2 + 1) == "文件不能超过 1.5 MB"
    assert len(os.listdir(upload_dir)) == 1


def test_size_limit_comes_from_settings(app, tmp_path, owner):
    settings.configure({**app.config, **FAST_HASHING, "UPLOAD_DIR": str(tmp_path), "UPLOAD_MAX_BYTES": 2048})
    try:
        assert refused(owner, "a.pdf", PDF + b"0" * 2048) == "文件不能超过 2 KB"
        assert store(owner, "a.pdf", PDF + b"0" * 100).size == len(PDF) + 100
    finally:
        settings.configure({**app.config, **FAST_HASHING})


def test_only_the_limit_is_read(upload_dir, owner):
    stream = io.BytesIO(PDF + b"0" * (MB3 * 2))
    with pytest.raises(InvalidInput):
        files.store_upload(owner, "a.pdf", stream)
    assert stream.tell() == MB3 + 1


def test_empty_file_is_refused(upload_dir, owner):
    assert refused(owner, "empty.pdf", b"") == "文件为空，请重新选择"


@pytest.mark.parametrize("name, kept", [
    ("../../etc/passwd.png", "passwd.png"),
    ("C:\\x\\a.png", "a.png"),
    ("/abs/dir/b.png", "b.png"),
    ("evil\x00\r\n\u202egnp.exe", "evilgnp.exe"),
    ("..", "附件"),
    ("", "附件"),
    ("dir/", "附件"),
    (None, "附件"),
    ("长" * 300 + ".png", "长" * 251 + ".png"),
])
def test_names_are_reduced_to_a_base_name(upload_dir, owner, name, kept):
    att = store(owner, name, PNG)
    assert att.original_name == kept and len(att.original_name) <= 255
    assert os.listdir(upload_dir) == [att.storage_name]
    assert os.path.dirname(files.attachment_path(att)) == str(upload_dir)


def test_random_names_differ(upload_dir, owner):
    first, second = store(owner, "a.png", PNG), store(owner, "a.png", PNG)
    assert first.storage_name != second.storage_name and first.sha256 == second.sha256


def test_attachment_path_refuses_odd_storage_names(upload_dir):
    with pytest.raises(ValueError):
        files.attachment_path(Attachment(id=1, storage_name="../x"))


def make_instance(owner, key):
    spec = ProcessSpec(process_key=key, name="测试", version=1, content_hash=key * 8, bpmn_xml="<x/>",
                       spec_json="{}", forms={})
    Session.add(spec)
    Session.flush()
    instance = ProcessInstance(process_key=key, spec_id=spec.id, title="测试", started_by_id=owner.id,
                               org_id=owner.org_id, region_path="330000", state="{}", serializer_version="1")
    Session.add(instance)
    Session.flush()
    return instance


def test_ownership_and_linking(upload_dir, owner, users):
    other = users("jaadmin01")
    att = store(owner, "a.pdf", PDF)
    assert files.owned_by(att, owner) and not files.owned_by(att, other) and not files.owned_by(None, owner)
    assert files.get_attachment(None) is None and files.get_attachment("1") is None
    assert files.get_attachment(True) is None and files.get_attachment(10 ** 9) is None
    mine, theirs = files.file_exists_for(owner), files.file_exists_for(other)
    assert mine(att.id) and not theirs(att.id) and not mine(10 ** 9) and not mine("x")

    first, second = make_instance(owner, "flow_a"), make_instance(owner, "flow_b")
    assert files.link_to_instance([att.id, None], first) == [att]
    assert att.instance_id == first.id
    assert not mine(att.id)                                    # already used elsewhere
    assert files.file_exists_for(owner, first)(att.id)          # resubmission in the same instance
    assert not files.file_exists_for(owner, second)(att.id)
    assert files.link_to_instance([att.id], first) == [att]     # idempotent
    with pytest.raises(ValueError):
        files.link_to_instance([att.id], second)
    with pytest.raises(ValueError):
        files.link_to_instance([10 ** 9], second)
    assert files.link_to_instance([], second) == []
