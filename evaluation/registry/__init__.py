"""The registry: designs frozen by hash before their effect is known.

`ledger` owns the file `designs/registry.jsonl` (append-only, hash-chained, locked);
`registration` writes to it (register, amend, repair); `status` reads it (status of a design,
verification of the chain and the design files, the workspace overview); `integrity` checks the
ledger against the heads recorded outside it and its git history; `control_pool` says which units
other registered designs treat (the control pool frozen at registration, and deviations since).
"""

from evaluation.registry.control_pool import ControlPool, control_pool, overlap_problems
from evaluation.registry.ledger import Head, read_head
from evaluation.registry.registration import (
    TIMING_TEXT,
    TIMINGS,
    amend,
    data_facts,
    register,
    repair,
    restart_ledger,
)
from evaluation.registry.status import (
    Registration,
    Verification,
    registration_status,
    require_registered,
    verify,
    workspace_status,
)

__all__ = ["TIMINGS", "TIMING_TEXT", "ControlPool", "Head", "Registration", "Verification", "amend",
           "control_pool", "data_facts", "overlap_problems", "read_head", "register", "registration_status",
           "repair", "require_registered", "restart_ledger", "verify", "workspace_status"]
