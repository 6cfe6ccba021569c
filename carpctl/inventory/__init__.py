"""The inventory: typed pairs and nodes loaded from YAML (loader), its schema, ssh config,
secrets and the checks every value passes before it can reach a node."""

from carpctl.inventory.loader import (
    DEFAULT_PATH,
    ENV_VAR,
    DeploySettings,
    FailoverSettings,
    FileSpec,
    InvalidInventory,
    Inventory,
    Node,
    Pair,
    load_inventory,
)

__all__ = ["DEFAULT_PATH", "ENV_VAR", "DeploySettings", "FailoverSettings", "FileSpec",
           "InvalidInventory", "Inventory", "Node", "Pair", "load_inventory"]
