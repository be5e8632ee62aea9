"""The design layer: what an evaluation pre-specifies, before any outcome is known.

`model` is the frozen, validated, hashable `Design` (and `load_design`); `template` writes the
commented template of `design new`; `checks` holds a design against its data (`design check`).
"""
