"""The webhook receiver: registry push notifications in, each service's first lane (LaneWorkflow) fed.

payloads/ holds one model per registry format, sources.py says how each is parsed and signed, auth.py
checks credentials, receiver.py routes pushes to services, enqueue.py signals the first lane, app.py is
the HTTP surface and server.py serves it.
"""

from rollwright.webhooks.app import create_app
from rollwright.webhooks.receiver import DeliveryReport, ReceiverSettings

__all__ = ["DeliveryReport", "ReceiverSettings", "create_app"]
