"""Deploy and rollback: plan, stage and validate on the nodes, commit one node at a time."""

from carpctl.flows.deploy.rollout import (
    DeployOptions,
    NodeReport,
    PairReport,
    deploy,
    deploy_pair,
    worst,
)

__all__ = ["DeployOptions", "NodeReport", "PairReport", "deploy", "deploy_pair", "worst"]
