"""The `rollwright` operator CLI: deploy, status, controls, lane controls (rollback, pin, release, promote), history,
versions, previews, the webhook server."""
