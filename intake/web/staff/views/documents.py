"""Documents prescribers attached: streamed to pharmacy staff only, each download audited."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from intake.audit import AuditEntry
from intake.errors import NotFound
from intake.selectors import document_for_staff
from intake.services.uploads import document_download
from intake.web.staff.access import staff_required


# staff_required passes any response through; its type names HttpResponse, and a FileResponse streams.
@staff_required  # type: ignore[arg-type]
@require_GET
def document(request: HttpRequest, document_id: int) -> FileResponse:
    try:
        found = document_for_staff(request.user, document_id)  # type: ignore[arg-type]
        path = document_download(document=found, audit=AuditEntry.of(request, description="document downloaded"))
    except NotFound:
        raise Http404("No such document") from None
    # An attachment of the sniffed type only: a browser never renders a prescriber's file inline.
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=found.original_filename, content_type=found.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
