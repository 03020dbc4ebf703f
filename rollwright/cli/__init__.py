"""The `rollwright` operator CLI: deploy, status, controls, history, versions, previews, the webhook server."""
