"""Pure logic: CARP rules and predictions, failover plans, backup sets, the confirm timer,
the playbook model. No I/O."""
