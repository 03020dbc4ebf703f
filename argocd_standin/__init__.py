"""Argo CD stand-in: a **test and demo aid**, not part of the product and not a real Argo CD.

It serves the Argo CD REST endpoints Rollwright uses, in Argo CD's JSON shapes, from a real GitOps
repository on disk, and simulates an Argo Rollouts controller walking each Rollout through its canary
steps. Failures and faults are injected through `/standin/*` admin endpoints. Run it with

    python -m argocd_standin --port 8090 --state standin.json --repo /path/gitops.git --speed 20 --token T

or, from tests and the demo, `async with argocd_standin.process.run_standin(...) as standin:`.

Applications: registered through `PUT /standin/applications/{name}`, or discovered on first use: an
unknown name is looked up in the repository's branch among directories `<env>/<region>/<service>` whose
`{service}-{env}-{region}` (the `--app-template`) equals it.
"""
