from __future__ import annotations

from pydantic import field_validator

from tripflow_common.settings import CommaList, CommonSettings, split_comma_list


class RetrySettings(CommonSettings):
    port: int = 8004
    retry_backoff_seconds: CommaList = ["300", "900", "2700"]
    retry_max_attempts: int = 3
    retry_batch_size: int = 10
    retry_interval_seconds: float = 60.0

    _split = field_validator("retry_backoff_seconds", mode="before")(split_comma_list)
