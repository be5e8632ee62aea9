"""How long an interrupted time series must be for the placebo-block inference to hold its level.

The rule is arithmetic on the pre- and post-period lengths, stated once here for the design check
(`design.checks`, before registration) and the estimator (`estimators.its.blocks`, which refuses
the inference with the blocking check `its_inference_validity`). See docs/calibration_its.md.
"""

from __future__ import annotations

from evaluation import defaults


def block_length(n_pre: int, n_post: int) -> int:
    """Length of the pre-period blocks: the post-period's, but short enough for
    defaults.ITS_TARGET_PLACEBO_BLOCKS blocks in the pre-period (a long post-period is compared
    through its per-period variance, batch means of this length)."""
    return max(min(n_post, n_pre // defaults.ITS_TARGET_PLACEBO_BLOCKS), 1)


def placebo_block_count(n_pre: int, n_post: int) -> int:
    """How many non-overlapping pre-period blocks there are (of length `block_length`)."""
    return n_pre // block_length(n_pre, n_post) if n_post > 0 else 0


def valid_lengths(n_pre: int, n_post: int) -> bool:
    """Enough blocks (defaults.ITS_MIN_PLACEBO_BLOCKS), each long enough to carry a shock that
    lasts weeks (defaults.ITS_MIN_BLOCK_LENGTH periods, or the post-period's length if shorter)."""
    return (placebo_block_count(n_pre, n_post) >= defaults.ITS_MIN_PLACEBO_BLOCKS
            and block_length(n_pre, n_post) >= min(n_post, defaults.ITS_MIN_BLOCK_LENGTH))
