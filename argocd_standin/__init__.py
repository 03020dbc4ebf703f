"""Argo CD stand-in: a **test and demo aid**, not part of the product and not a real Argo CD.

It serves the Argo CD REST endpoints Rollwright uses, in Argo CD's JSON shapes, from a real GitOps
repository on disk, and simulates an Argo Rollouts controller walking each Rollout through its canary
steps. Failures and faults are injected through `/standin/*` admin endpoints. Run it with

    python -m argocd_standin --port 8090 --state standin.json --repo /path/gitops.git --speed 20 --token T

or, from tests and the demo, `async with argocd_standin.process.run_standin(...) as standin:`.

Applications: registered through `PUT /standin/applications/{name}`, or discovered on first use: an
unknown name is looked up in the repository's branch among directories `<env>/<region>/<service>` whose
`{service}-{env}-{region}` (the `--app-template`) equals it. A sync reads `git show <rev>:<path>`; a path
that no longer exists syncs to nothing (every resource pruned).

Admin API (same bearer token; never subject to injected faults):
- `PUT /standin/applications/{name}` `{path, target_revision?, automated?, service?, environment?, region?}`
- `PUT /standin/rules` `{rules: [{digests, tag_pattern, apps, regions, mode: analysis|stall, message}]}`:
  matching versions fail their analysis (step analysis, else background analysis), or never get ready pods
  so the Rollout's progress deadline fires. Tags come from `repo:tag` images or the
  `app.kubernetes.io/version` / `rollwright.io/tag` labels.
- `PUT /standin/faults` `{error_rate, latency_ms, actions_v2, seed}`: a share of Argo CD API answers become
  502/503 (half of them after the request took effect), added latency, or no `/resource/actions/v2` route.
- `GET /standin/stats`: how many faults were injected.

Simulated time: pauses, analysis (5 s), pod readiness (2 s) and progress deadlines are divided by `--speed`.
State (applications, live objects, rules, faults) is written to `--state` after every change.
"""
