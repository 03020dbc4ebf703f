"""How every Rollwright process (worker, webhook receiver, CLI) reaches its external services from config."""
