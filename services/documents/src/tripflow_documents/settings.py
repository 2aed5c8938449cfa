from __future__ import annotations

from tripflow_common.settings import CommonSettings


class DocumentsSettings(CommonSettings):
    port: int = 8003
