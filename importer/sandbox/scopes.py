"""The OAuth scopes the sandbox knows, as the live API names them (its config checks them, auth grants them)."""

from __future__ import annotations

__all__ = ["SCOPES"]

SCOPES = (
    "vismanet_erp_service_api:create",
    "vismanet_erp_service_api:read",
    "vismanet_erp_service_api:update",
    "vismanet_erp_service_api:delete",
)
