from __future__ import annotations

from tripflow_common.errors import NotFound


class DocumentNotFound(NotFound):
    code = "document_not_found"
