"""Uploads against hostile files, end to end over HTTP: a renamed executable and an oversized image are
refused; a polyglot (a real JPEG header followed by HTML and script) is stored as a JPEG and only ever served
as a download of type image/jpeg that the browser may not sniff, under a policy that runs no inline script;
a path-traversal name never leaves the upload directory."""
import dataclasses
import io
import os

import pytest

from workflows import files

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
POLYGLOT = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"<html><script>alert(document.cookie)</script></html>" + b"%PDF-1.4"


@pytest.fixture
def headers(ready, api_login):
    ready("jahosp001", verified=True)
    return api_login("jahosp001")


def upload(client, headers, name, data):
    return client.post("/api/v1/files", headers=headers, data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_a_renamed_executable_is_refused(client, headers):
    response = upload(client, headers, "照片.jpg", EXE)
    assert response.status_code == 422 and "只接受" in response.json["message"]


def test_an_oversized_image_is_refused(client, headers, monkeypatch):
    small = dataclasses.replace(files.settings.current(), upload_max_bytes=2048)   # a small limit, same code
    monkeypatch.setattr(files.settings, "current", lambda: small)
    assert upload(client, headers, "ok.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 2000).status_code == 201
    response = upload(client, headers, "big.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 2045)
    assert (response.status_code, response.json["message"]) == (422, "文件不能超过 2 KB")


def test_a_polyglot_is_only_served_as_a_jpeg_download(client, headers):
    response = upload(client, headers, "poly.jpg", POLYGLOT)
    assert response.status_code == 201, response.json
    file_id = response.json["id"]
    served = client.get(f"/api/v1/files/{file_id}", headers=headers)
    try:
        assert served.status_code == 200 and served.data == POLYGLOT
        assert served.headers["Content-Type"] == "image/jpeg"
        assert served.headers["Content-Disposition"].startswith("attachment")
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert "script-src 'self'" in served.headers["Content-Security-Policy"]
    finally:
        served.close()


def test_a_traversal_name_stays_inside_the_upload_directory(client, headers, app):
    response = upload(client, headers, "../../../../etc/cron.d/evil.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    assert response.status_code == 201
    attachment = files.get_attachment(response.json["id"])
    assert attachment.original_name == "evil.png"
    upload_dir = os.path.realpath(app.config["UPLOAD_DIR"])
    assert os.path.realpath(files.attachment_path(attachment)).startswith(upload_dir + os.sep)
