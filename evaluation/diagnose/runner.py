"""Running the simulations: locally over cores (joblib) or on a Dask cluster.

Every simulation i has its own random stream, child i of numpy's SeedSequence(design seed)
(`SeedSequence.spawn`), and all effect sizes of simulation i start from that same stream
(common random numbers: a smoother power curve). Results are put back in simulation order, so a
diagnosis is identical whatever the number of workers or the back end.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evaluation.diagnose.diagnosands import OUTCOME_FIELDS
from evaluation.estimators.core import PrimaryAnalysis
from evaluation.estimators.fit_warnings import warning_log
from evaluation.progress import progress_bar
from evaluation.simulation.model import PanelModel

# Simulations per task: large enough to amortise shipping the model to a worker, small enough
# to keep every core busy and the progress bar moving.
CHUNKS_PER_WORKER = 8
MAX_CHUNK = 50


@dataclass(frozen=True)
class SimulationTask:
    """Everything a worker needs: the null model and the primary analysis of the placebo data."""

    analysis: PrimaryAnalysis
    null: PanelModel
    effects: tuple[float, ...]
    truths: tuple[float, ...]  # the true estimand per effect (log RR, or difference)

    def run(self, seeds: Sequence[np.random.SeedSequence]) -> tuple[np.ndarray, dict[str, int],
                                                                    dict[str, int]]:
        """(outcomes, failed analyses by message, library warnings by message) of a batch."""
        out = np.zeros((len(seeds), len(self.effects), len(OUTCOME_FIELDS)))
        errors: dict[str, int] = {}
        # the fits' warnings (convergence, overflow, ...) of the whole batch: counted into the
        # diagnosis like failed fits, never printed once per simulation
        with warning_log() as log:
            self._run(seeds, out, errors)
        return out, errors, dict(Counter(f"{category}: {message}" for category, message in log.items))

    def _run(self, seeds: Sequence[np.random.SeedSequence], out: np.ndarray,
             errors: dict[str, int]) -> None:
        for i, seed in enumerate(seeds):
            for j, (effect, truth) in enumerate(zip(self.effects, self.truths, strict=True)):
                rng = np.random.default_rng(seed)  # the same stream for every effect size
                y = self.null.simulate(rng, rate_ratio=1.0 + effect)
                result = self.analysis.outcome(y, truth=truth)
                if result.error is not None:
                    errors[result.error] = errors.get(result.error, 0) + 1
                out[i, j] = (result.estimate, result.p_value, float(result.covered),
                             float(result.error is not None), result.conf_any, result.conf_min)


def run_simulations(task: SimulationTask, *, sims: int, seed: int, workers: int = 1,
                    scheduler: str | None = None) -> tuple[np.ndarray, dict[str, int],
                                                            dict[str, int]]:
    """(sims x effects x OUTCOME_FIELDS array, error message -> count, warning -> count), in
    simulation order."""
    seeds = np.random.SeedSequence(seed).spawn(sims)
    n_workers = max(1, workers)
    size = max(1, min(MAX_CHUNK, math.ceil(sims / (n_workers * CHUNKS_PER_WORKER))))
    chunks = [seeds[k:k + size] for k in range(0, sims, size)]
    results: list = [None] * len(chunks)
    with progress_bar("simulating", sims) as advance:
        if scheduler is None and n_workers == 1:
            for k, chunk in enumerate(chunks):
                results[k] = task.run(chunk)
                advance(len(chunk))
        else:
            for k, result in _parallel(task, chunks, workers=n_workers, scheduler=scheduler):
                results[k] = result
                advance(len(chunks[k]))
    values = np.concatenate([r[0] for r in results], axis=0)
    errors: Counter[str] = Counter()
    warned: Counter[str] = Counter()
    for _, chunk_errors, chunk_warnings in results:
        errors.update(chunk_errors)
        warned.update(chunk_warnings)
    return values, dict(sorted(errors.items())), dict(sorted(warned.items()))


def _parallel(task: SimulationTask, chunks: list, *, workers: int, scheduler: str | None):
    """Yield (chunk index, result) as chunks finish (any order; the caller re-orders)."""
    from joblib import Parallel, delayed, parallel_backend

    jobs = (delayed(_indexed)(k, task, chunk) for k, chunk in enumerate(chunks))
    if scheduler is None:
        yield from Parallel(n_jobs=workers, return_as="generator_unordered")(jobs)
        return
    from distributed import Client

    client = Client(scheduler)
    try:
        with parallel_backend("dask"):
            # the Dask back end returns a list; progress then moves when all chunks are back
            yield from Parallel(n_jobs=-1)(jobs)
    finally:
        client.close()


def _indexed(k: int, task: SimulationTask, chunk: list):
    return k, task.run(chunk)
