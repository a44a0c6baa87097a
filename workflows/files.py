"""Uploaded attachments: type judged by content, stored under a random name in the upload directory.

The user's file name is kept only as ``original_name`` (base name, control characters removed) for display;
it never takes part in the stored path. Files are written to a temporary file and renamed into place.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
import unicodedata

from sqlalchemy import select

from models.db import Session
from models.workflow import Attachment
from workflows import settings
from workflows.errors import InvalidInput

DEFAULT_KINDS = ("image/jpeg", "image/png", "application/pdf")
# content type -> (magic bytes, label shown to the user)
SIGNATURES = {
    "image/jpeg": (b"\xff\xd8\xff", "JPG"),
    "image/png": (b"\x89PNG\r\n\x1a\n", "PNG"),
    "application/pdf": (b"%PDF-", "PDF"),
    # Excel workbooks (.xlsx) are ZIP archives: the container type is what is sniffed and stored (the xlsx media
    # type is longer than the 64-character column); callers open the workbook to be sure and serve it as xlsx
    "application/zip": (b"PK\x03\x04", "XLSX"),
}
_STORAGE_NAME = re.compile(r"[0-9a-f]{32}")
_CHUNK = 64 * 1024
_MAX_NAME = 255


def _refuse(message):
    raise InvalidInput(message, code="upload_refused")


def _size_text(limit):
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if limit >= size:
            return f"{limit / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{limit} 字节"


def _kinds_text(kinds):
    labels = [SIGNATURES[k][1] for k in kinds]
    return labels[0] if len(labels) == 1 else "、".join(labels[:-1]) + " 或 " + labels[-1]


def sniff(data: bytes, kinds=DEFAULT_KINDS) -> str | None:
    """The content type among ``kinds`` whose magic bytes start ``data``, else None."""
    return next((k for k in kinds if data.startswith(SIGNATURES[k][0])), None)


def clean_filename(filename) -> str:
    """The base name of a client-supplied file name, without control or formatting characters."""
    name = re.split(r"[\\/]", filename if isinstance(filename, str) else "")[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Zl", "Zp")).strip()
    if name.strip(".") == "":
        return "附件"
    if len(name) > _MAX_NAME:
        stem, ext = os.path.splitext(name)
        name = stem[:_MAX_NAME - len(ext)] + ext if len(ext) <= 16 else name[:_MAX_NAME]
    return name


def _read_limited(stream, limit):
    chunks, total = [], 0
    while total <= limit:
        chunk = stream.read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _write(directory, storage_name, data):
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, os.path.join(directory, storage_name))
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def store_upload(actor, filename: str, stream, *, kinds=DEFAULT_KINDS, max_bytes=None) -> Attachment:
    """Check and store an upload owned by ``actor``; raise ``InvalidInput`` (``upload_refused``) if refused."""
    unknown = [k for k in kinds if k not in SIGNATURES]
    if unknown or not kinds:
        raise ValueError(f"unsupported upload kinds: {unknown or kinds}")
    limit = settings.current().upload_max_bytes if max_bytes is None else max_bytes
    data = _read_limited(stream, limit)
    if not data:
        _refuse("文件为空，请重新选择")
    if len(data) > limit:
        _refuse(f"文件不能超过 {_size_text(limit)}")
    content_type = sniff(data, kinds)
    if content_type is None:
        _refuse(f"只接受 {_kinds_text(kinds)} 文件")
    storage_name = secrets.token_hex(16)
    directory = settings.current().upload_dir
    _write(directory, storage_name, data)
    attachment = Attachment(storage_name=storage_name, original_name=clean_filename(filename),
                            content_type=content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                            owner_id=actor.id)
    try:
        Session.add(attachment)
        Session.flush()
    except BaseException:
        os.remove(os.path.join(directory, storage_name))
        raise
    return attachment


def attachment_path(att: Attachment) -> str:
    """The file of an attachment in the upload directory."""
    if not _STORAGE_NAME.fullmatch(att.storage_name or ""):
        raise ValueError(f"unexpected storage name for attachment {att.id}")
    return os.path.join(settings.current().upload_dir, att.storage_name)


def get_attachment(attachment_id) -> Attachment | None:
    if not isinstance(attachment_id, int) or isinstance(attachment_id, bool) or attachment_id <= 0:
        return None
    return Session.get(Attachment, attachment_id)


def owned_by(att: Attachment | None, user) -> bool:
    return att is not None and user is not None and att.owner_id == user.id


def file_exists_for(user, instance=None):
    """``file_exists`` callback for form validation: the attachment exists, is the user's, and is not yet
    linked to an instance (or is linked to ``instance`` already, as on resubmission)."""
    def exists(attachment_id) -> bool:
        att = get_attachment(attachment_id)
        linked_elsewhere = att is not None and att.instance_id is not None and (
            instance is None or att.instance_id != instance.id)
        return owned_by(att, user) and not linked_elsewhere
    return exists


def link_to_instance(attachment_ids, instance) -> list[Attachment]:
    """Attach uploaded files to a process instance; refuses files already linked to another instance."""
    ids = sorted({i for i in attachment_ids if i is not None})
    if not ids:
        return []
    if instance.id is None:
        Session.flush()
    found = Session.scalars(select(Attachment).where(Attachment.id.in_(ids))).all()
    if len(found) != len(ids):
        raise ValueError(f"unknown attachments: {sorted(set(ids) - {a.id for a in found})}")
    for att in found:
        if att.instance_id not in (None, instance.id):
            raise ValueError(f"attachment {att.id} belongs to another instance")
        att.instance_id = instance.id
    Session.flush()
    return list(found)
