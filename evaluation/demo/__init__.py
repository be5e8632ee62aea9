"""The synthetic demo: a fixed national map, planted interventions and the main job.

`units` is the map (342 municipalities, populations, neighbours); `interventions` the eight planted
Field Lab effects (the ground truth); `data` the national incident files; `job` is `make demo`.
"""
