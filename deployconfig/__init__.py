"""The one Rollwright config file: typed models, a loader with errors that name the key, plans from it."""

from deployconfig.loader import ConfigError, load_config, parse_config
from deployconfig.models import RollwrightConfig, ServiceConfig

__all__ = ["ConfigError", "RollwrightConfig", "ServiceConfig", "load_config", "parse_config"]
