from __future__ import annotations

from tripflow_common.settings import CommonSettings


class LifecycleSettings(CommonSettings):
    port: int = 8002
