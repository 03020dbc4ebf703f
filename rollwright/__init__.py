"""Rollwright: registry push → Pulumi → Argo CD, region by region, with automatic rollback.

The package is layered, and `make lint` checks it (import-linter): `domain` is the shared vocabulary;
the clients (`registry`, `versionstore`, `provisioning`, `stacks`, `gitops`, `argocd`, `notify`) know
nothing of Temporal; the top-level `activities` and `workflows` build on them; the entry points
(`cli`, `webhooks`, `worker`, `starter`) come last.
"""
