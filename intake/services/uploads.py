"""Documents a prescriber attaches to their prescription (prior labs): checked, stored, audited.

A file is taken only when its bytes are a PDF, PNG or JPEG (sniffed with `filetype`) and its
name's extension and declared type say the same thing: an HTML page or a program renamed .pdf is
refused. It is stored outside the web root under a random name, never the one it came with.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import unicodedata
from pathlib import Path

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from accounts.models import User
from intake.audit import AuditEntry
from intake.errors import Forbidden, NotFound
from intake.models import AuditAction, DocumentKind, Prescription, PrescriptionDocument

# What a pharmacist can open safely: the sniffed type, and the extensions a name may carry for it.
ALLOWED_TYPES: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
}
# A client that does not know the type says so; any other declared type must match the bytes.
UNDECLARED_TYPES = frozenset({"", "application/octet-stream"})
# Enough for filetype's signatures (it reads the first 261 bytes).
SNIFF_BYTES = 2048
# A prescription gathers a few lab reports, not an archive: a bound on the disk one account can fill.
MOST_DOCUMENTS_PER_PRESCRIPTION = 20
FILENAME_MAX_LENGTH = 255
ALLOWED_TEXT = "Send a PDF, PNG or JPEG file."


def document_max_bytes() -> int:
    return int(settings.DOCUMENT_MAX_MB) * 1024 * 1024


def documents_root() -> Path:
    return Path(settings.PRIVATE_DOCUMENTS_ROOT)


def document_path(document: PrescriptionDocument) -> Path:
    return documents_root() / document.stored_name


def sniffed_type(head: bytes) -> str | None:
    """The content type the first bytes prove, among the allowed ones; None for anything else."""
    kind = filetype.guess(head)
    if kind is None or kind.mime not in ALLOWED_TYPES:
        return None
    return str(kind.mime)


def document_problem(*, filename: str, declared_type: str, size: int, head: bytes) -> str:
    """Why a file is refused, in a sentence for the prescriber; "" when it is taken."""
    if size <= 0:
        return "The file is empty."
    if size > document_max_bytes():
        return f"The file is larger than {settings.DOCUMENT_MAX_MB} MB."
    sniffed = sniffed_type(head)
    if sniffed is None:
        return f"This file is not a PDF or an image the pharmacy can open. {ALLOWED_TEXT}"
    extension = Path(filename).suffix.lower()
    if extension not in ALLOWED_TYPES[sniffed]:
        return f"The file's name ({extension or 'no extension'}) does not match its content. {ALLOWED_TEXT}"
    declared = declared_type.split(";", 1)[0].strip().lower()
    if declared not in UNDECLARED_TYPES and declared != sniffed:
        return f"The file's declared type ({declared[:40]}) does not match its content. {ALLOWED_TEXT}"
    return ""


def clean_filename(name: str) -> str:
    """The name the prescriber's file had, for the pharmacy's download: no folders, no control characters."""
    base = Path(name.replace("\\", "/")).name
    printable = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return printable[-FILENAME_MAX_LENGTH:] or "document"


def prescription_for_upload(actor: User, prescription_id: int) -> Prescription:
    """The actor's own prescription: staff, who may read it, are refused (403); anyone else learns nothing (404)."""
    prescription = Prescription.objects.select_related("prescriber").filter(pk=prescription_id).first()
    if prescription is None or not actor.is_authenticated:
        raise NotFound()
    if prescription.prescriber.user_id != actor.pk:
        if actor.is_pharmacy_staff:
            raise Forbidden("Only the prescriber attaches documents to their prescription.")
        raise NotFound()
    return prescription


def document_upload(
    *, actor: User, prescription_id: int, upload: UploadedFile, kind: str, audit: AuditEntry
) -> PrescriptionDocument:
    """Check and store one document of the actor's own prescription, with its audit row."""
    prescription = prescription_for_upload(actor, prescription_id)
    if kind not in DocumentKind.values:
        raise ValidationError({"kind": [f"Choose one of: {', '.join(DocumentKind.values)}."]})
    if PrescriptionDocument.objects.filter(prescription=prescription).count() >= MOST_DOCUMENTS_PER_PRESCRIPTION:
        raise ValidationError({"file": [f"A prescription holds at most {MOST_DOCUMENTS_PER_PRESCRIPTION} documents."]})
    size = upload.size or 0
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    problem = document_problem(
        filename=upload.name or "", declared_type=upload.content_type or "", size=size, head=head
    )
    if problem:
        raise ValidationError({"file": [problem]})
    # Written before the row, outside the transaction (slow I/O holds no locks); a row that fails
    # to commit takes its file away again.
    stored_name, digest, written = _store(upload)
    try:
        return _record(
            prescription=prescription, actor=actor, kind=kind, filename=clean_filename(upload.name or ""),
            content_type=sniffed_type(head) or "", size=written, digest=digest, stored_name=stored_name, audit=audit,
        )  # fmt: skip
    except BaseException:
        (documents_root() / stored_name).unlink(missing_ok=True)
        raise


def _store(upload: UploadedFile) -> tuple[str, str, int]:
    """Copy the upload under a random name, readable by the pharmacy's process only."""
    root = documents_root()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    stored_name = secrets.token_hex(20)
    path = root / stored_name
    hasher = hashlib.sha256()
    written = 0
    upload.seek(0)
    # O_EXCL: a random name that exists already is never overwritten.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out:
            for chunk in upload.chunks():
                written += len(chunk)
                if written > document_max_bytes():
                    raise ValidationError({"file": [f"The file is larger than {settings.DOCUMENT_MAX_MB} MB."]})
                hasher.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return stored_name, hasher.hexdigest(), written


@transaction.atomic(durable=True)
def _record(
    *,
    prescription: Prescription,
    actor: User,
    kind: str,
    filename: str,
    content_type: str,
    size: int,
    digest: str,
    stored_name: str,
    audit: AuditEntry,
) -> PrescriptionDocument:
    document = PrescriptionDocument.objects.create(
        prescription=prescription, kind=kind, original_filename=filename, content_type=content_type, size=size,
        sha256=digest, stored_name=stored_name, uploaded_by=actor,
    )  # fmt: skip
    audit.record(AuditAction.CREATE, prescription=prescription, object_type="document", object_id=document.pk)
    return document


def document_download(*, document: PrescriptionDocument, audit: AuditEntry) -> Path:
    """The stored file of a document staff may read, its read recorded in the prescription's access log."""
    path = document_path(document)
    if not path.is_file():
        raise NotFound("The document's file is missing.")
    audit.record(AuditAction.DOWNLOAD, prescription=document.prescription, object_type="document",
                 object_id=document.pk)  # fmt: skip
    return path
