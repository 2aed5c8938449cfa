from __future__ import annotations

from pydantic import field_validator

from tripflow_common.settings import CommaList, CommonSettings, split_comma_list


class GatewaySettings(CommonSettings):
    port: int = 8001
    stripe_webhook_secrets: CommaList = []
    standard_webhook_secrets: CommaList = []
    supplier_webhook_secrets: CommaList = []
    webhook_tolerance_seconds: int = 300
    webhook_max_body_bytes: int = 256 * 1024
    webhook_heartbeat_min_interval_seconds: float = 1.0

    _split = field_validator(
        "stripe_webhook_secrets",
        "standard_webhook_secrets",
        "supplier_webhook_secrets",
        mode="before",
    )(split_comma_list)

    def validate_secrets(self) -> None:
        self.require_secrets("stripe_webhook_secrets", self.stripe_webhook_secrets)
        self.require_secrets("standard_webhook_secrets", self.standard_webhook_secrets)
        self.require_secrets("supplier_webhook_secrets", self.supplier_webhook_secrets)
