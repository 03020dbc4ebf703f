"""`make demo`: the whole Rollwright loop on one machine, narrated.

Starts the real parts (Temporal dev server with its UI, the CNCF registry notifying the webhook receiver,
a bare GitOps repository, the local cluster with the real Argo CD and Argo Rollouts, simulated users measured
by a real Prometheus, the workers), then pushes v1.0.0 of a sample service through staging and prod, and
v1.1.0, which answers 20% of its requests in prod's second wave with 5xx: a real AnalysisRun fails on that
measurement, so Rollwright rolls every region it touched back to v1.0.0 and marks v1.1.0 bad.
"""
