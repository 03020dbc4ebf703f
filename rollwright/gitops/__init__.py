"""The GitOps repository client: one commit per deployment and region, pushed with rebase-and-retry."""
