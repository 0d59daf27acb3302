"""Documents a prescriber attaches: checked by their bytes, stored outside the web root under a
random name, read back by pharmacy staff only, every upload and download audited."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from intake.audit import AuditEntry
from intake.errors import Forbidden, NotFound
from intake.models import AuditRecord, PrescriptionDocument
from intake.services.uploads import document_path, document_upload
from tests.factories import make_prescription
from tests.shortcuts.helpers import EXE, HTML, JPEG, PDF, PNG


def entry() -> AuditEntry:
    return AuditEntry(actor=None, actor_label="test", method="POST", path="/", ip_address="127.0.0.1", user_agent="")


def stored_files() -> set[str]:
    root = Path(settings.PRIVATE_DOCUMENTS_ROOT)
    return {path.name for path in root.iterdir()} if root.exists() else set()


@pytest.fixture
def prescription(prescriber):
    return make_prescription(prescriber)


def upload(prescriber, prescription, name="labs.pdf", content=PDF, content_type="application/pdf", kind="labs"):
    return document_upload(actor=prescriber.user, prescription_id=prescription.pk, kind=kind, audit=entry(),
                           upload=SimpleUploadedFile(name, content, content_type=content_type))  # fmt: skip


@pytest.mark.parametrize(
    ("name", "content", "content_type", "expected"),
    [
        ("labs.pdf", PDF, "application/pdf", "application/pdf"),
        ("scan.PNG", PNG, "image/png", "image/png"),
        ("photo.jpeg", JPEG, "image/jpeg", "image/jpeg"),
        ("photo.jpg", JPEG, "application/octet-stream", "image/jpeg"),  # a client that does not know the type
    ],
)
def test_a_pdf_or_image_is_stored_with_its_sniffed_type(prescriber, prescription, name, content, content_type,
                                                         expected):  # fmt: skip
    document = upload(prescriber, prescription, name=name, content=content, content_type=content_type)

    assert document.content_type == expected
    assert document.size == len(content)
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.original_filename == name
    assert document_path(document).read_bytes() == content


@pytest.mark.parametrize(
    ("name", "content", "content_type", "problem"),
    [
        ("page.pdf", HTML, "application/pdf", "not a PDF or an image"),  # HTML renamed .pdf
        ("setup.pdf", EXE, "application/pdf", "not a PDF or an image"),  # a program renamed .pdf
        ("labs.png", PDF, "image/png", "does not match its content"),  # a PDF named .png
        ("labs.pdf", PDF, "text/html", "declared type"),  # the declared type says otherwise
        ("labs", PDF, "application/pdf", "no extension"),
        ("labs.pdf", b"", "application/pdf", "empty"),
    ],
)
def test_a_file_whose_bytes_name_and_type_disagree_is_refused(prescriber, prescription, name, content,
                                                               content_type, problem):  # fmt: skip
    stored_before = stored_files()

    with pytest.raises(ValidationError) as refused:
        upload(prescriber, prescription, name=name, content=content, content_type=content_type)

    assert problem in " ".join(refused.value.messages)
    assert not PrescriptionDocument.objects.exists()
    assert stored_files() == stored_before


def test_a_file_over_the_limit_is_refused(prescriber, prescription, settings):
    settings.DOCUMENT_MAX_MB = 1
    big = PDF + b"0" * (1024 * 1024)

    with pytest.raises(ValidationError, match="larger than 1 MB"):
        upload(prescriber, prescription, content=big)
    assert not PrescriptionDocument.objects.exists()


def test_stored_outside_the_web_root_under_a_random_name(prescriber, prescription):
    document = upload(prescriber, prescription, name="../../static/evil.pdf")

    path = document_path(document).resolve()
    assert path.parent == Path(settings.PRIVATE_DOCUMENTS_ROOT).resolve()
    for web_root in (settings.STATIC_ROOT, *settings.STATICFILES_DIRS):
        assert not path.is_relative_to(Path(web_root).resolve())
    assert "evil" not in path.name and not path.suffix
    assert document.original_filename == "evil.pdf"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_default_root_is_outside_static_and_media():
    from pharmacy import settings as configured

    root = configured.BASE_DIR / "var" / "private-documents"
    assert not root.is_relative_to(configured.STATIC_ROOT)
    assert not any(root.is_relative_to(d) for d in configured.STATICFILES_DIRS)


def test_the_upload_is_audited_in_the_prescriptions_access_log(prescriber, prescription):
    document = upload(prescriber, prescription)

    record = AuditRecord.objects.get(object_type="document", object_id=str(document.pk))
    assert record.action == "create"
    assert record.prescription_reference == prescription.reference


def test_only_the_prescriptions_prescriber_uploads(other_prescriber, pharmacist, prescription):
    with pytest.raises(NotFound):
        upload(other_prescriber, prescription)
    with pytest.raises(Forbidden):
        document_upload(actor=pharmacist, prescription_id=prescription.pk, kind="labs", audit=entry(),
                        upload=SimpleUploadedFile("labs.pdf", PDF, content_type="application/pdf"))  # fmt: skip
    assert not PrescriptionDocument.objects.exists()


# The pages ---------------------------------------------------------------------------------------


def test_the_prescriber_attaches_a_document_on_the_detail_page(prescriber_client, prescription):
    url = reverse("prescriber:document_add", args=[prescription.pk])
    file = SimpleUploadedFile("labs.pdf", PDF, content_type="application/pdf")

    response = prescriber_client.post(url, {"kind": "labs", "file": file}, follow=True)

    assert response.status_code == 200
    assert PrescriptionDocument.objects.filter(prescription=prescription).count() == 1
    assert "labs.pdf" in response.content.decode()


def test_a_spoofed_file_on_the_page_is_refused_with_a_message(prescriber_client, prescription):
    url = reverse("prescriber:document_add", args=[prescription.pk])
    file = SimpleUploadedFile("page.pdf", HTML, content_type="application/pdf")

    response = prescriber_client.post(url, {"kind": "labs", "file": file}, follow=True)

    assert "not a PDF or an image" in response.content.decode()
    assert not PrescriptionDocument.objects.exists()


def test_another_prescriber_cannot_attach(client, login, other_prescriber, prescription):
    login(client, other_prescriber.user)
    url = reverse("prescriber:document_add", args=[prescription.pk])

    response = client.post(url, {"kind": "labs", "file": SimpleUploadedFile("a.pdf", PDF, "application/pdf")})

    assert response.status_code == 404
    assert not PrescriptionDocument.objects.exists()


@pytest.fixture
def document(prescriber, prescription):
    return upload(prescriber, prescription, name="Lipid panel.pdf")


def test_staff_see_the_documents_on_the_review_page(client, login, pharmacist, document):
    login(client, pharmacist)

    html = client.get(reverse("staff:review", args=[document.prescription_id])).content.decode()

    assert "Lipid panel.pdf" in html
    assert reverse("staff:document", args=[document.pk]) in html


@pytest.mark.parametrize("who", ["pharmacist", "technician"])
def test_staff_download_an_attachment_and_it_is_audited(client, login, request, document, who):
    login(client, request.getfixturevalue(who))

    response = client.get(reverse("staff:document", args=[document.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Lipid panel.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    record = AuditRecord.objects.get(action="download", object_type="document")
    assert record.object_id == str(document.pk)
    assert record.prescription_reference == document.prescription.reference


def test_prescribers_and_anonymous_cannot_download(client, login, prescriber, other_prescriber, document):
    url = reverse("staff:document", args=[document.pk])
    assert client.get(url).status_code == 302  # to the sign-in page
    login(client, prescriber.user)  # even the one who attached it: the pharmacy's copy is staff-only
    assert client.get(url).status_code == 403
    login(client, other_prescriber.user)
    assert client.get(url).status_code == 403
    assert not AuditRecord.objects.filter(action="download").exists()


def test_unknown_document_is_404(client, login, pharmacist, db):
    login(client, pharmacist)

    assert client.get(reverse("staff:document", args=[987654])).status_code == 404


# The API -----------------------------------------------------------------------------------------


def api_url(prescription) -> str:
    return f"/api/v1/prescriptions/{prescription.pk}/documents/"


def test_api_upload_and_list(prescriber_api, prescription):
    file = SimpleUploadedFile("labs.png", PNG, content_type="image/png")

    created = prescriber_api.post(api_url(prescription), {"file": file, "kind": "labs"}, format="multipart")

    assert created.status_code == 201, created.content
    assert created.json()["content_type"] == "image/png"
    listed = prescriber_api.get(api_url(prescription))
    assert listed.status_code == 200
    assert [row["original_filename"] for row in listed.json()] == ["labs.png"]
    assert set(listed.json()[0]) == {"id", "kind", "original_filename", "content_type", "size", "sha256",
                                     "uploaded_at"}  # fmt: skip


def test_api_refuses_a_spoofed_file_naming_the_field(prescriber_api, prescription):
    file = SimpleUploadedFile("setup.pdf", EXE, content_type="application/pdf")

    response = prescriber_api.post(api_url(prescription), {"file": file, "kind": "labs"}, format="multipart")

    assert response.status_code == 400
    assert "file" in response.json()
    assert not PrescriptionDocument.objects.exists()


def test_api_refuses_json(prescriber_api, prescription):
    assert prescriber_api.post(api_url(prescription), {"kind": "labs"}, format="json").status_code == 415


def test_api_another_prescriber_gets_404(other_prescriber_api, prescription):
    file = SimpleUploadedFile("labs.pdf", PDF, content_type="application/pdf")

    assert other_prescriber_api.post(api_url(prescription), {"file": file}, format="multipart").status_code == 404
    assert other_prescriber_api.get(api_url(prescription)).status_code == 404
    assert not PrescriptionDocument.objects.exists()


def test_api_staff_list_but_do_not_upload(pharmacist_api, prescription):
    file = SimpleUploadedFile("labs.pdf", PDF, content_type="application/pdf")

    assert pharmacist_api.get(api_url(prescription)).status_code == 200
    assert pharmacist_api.post(api_url(prescription), {"file": file}, format="multipart").status_code == 403
    assert not PrescriptionDocument.objects.exists()
