"""The one Rollwright config file: typed models, a loader with errors that name the key, plans from it."""

from rollwright.config.loader import ConfigError, load_config, parse_config
from rollwright.config.models import RollwrightConfig, ServiceConfig

__all__ = ["ConfigError", "RollwrightConfig", "ServiceConfig", "load_config", "parse_config"]
