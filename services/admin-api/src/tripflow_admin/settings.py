from __future__ import annotations

from tripflow_common.settings import CommonSettings


class AdminSettings(CommonSettings):
    port: int = 8005
