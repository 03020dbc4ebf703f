"""A local Kubernetes control plane with the real Argo Rollouts and the real Argo CD, from the binaries that
tools/ensure-cluster-tools.sh cached: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok (fake nodes
and pods, one node per region), rollouts-controller, redis, argocd-repo-server, argocd-application-controller and
argocd-server, every listener on 127.0.0.1 and a free port.

    async with run_local_cluster(tmp_path, regions=("us-east-1", "eu-west-1")) as cluster:
        ...  # cluster.kube_url, cluster.argocd_url, cluster.argocd_token, cluster.namespaces_per_region(...)
"""

from devstack.cluster.launcher import DEFAULT_REGIONS, ClusterStartError, run_local_cluster
from devstack.cluster.running import LocalCluster

__all__ = ["DEFAULT_REGIONS", "ClusterStartError", "LocalCluster", "run_local_cluster"]
