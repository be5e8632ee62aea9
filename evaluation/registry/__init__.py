"""The registry: designs frozen by hash before their effect is known.

`ledger` owns the file `designs/registry.jsonl` (append-only, hash-chained, locked);
`registration` writes to it (register, amend, repair); `status` reads it (status of a design,
verification of the chain and the design files, the workspace overview).
"""

from evaluation.registry.registration import amend, data_facts, register, repair
from evaluation.registry.status import (
    Registration,
    Verification,
    registration_status,
    require_registered,
    verify,
    workspace_status,
)

__all__ = ["Registration", "Verification", "amend", "data_facts", "register", "registration_status",
           "repair", "require_registered", "verify", "workspace_status"]
