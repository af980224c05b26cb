"""The unit's one typed config: defaults, then a TOML file, then PIANOCAM_* variables, then secret files."""
from pianocam.config.errors import ConfigError
from pianocam.config.layers import load_config
from pianocam.config.settings import UNIT_ID, CalibrationConfig, Config, SourceConfig, as_dict, describe

__all__ = ["UNIT_ID", "CalibrationConfig", "Config", "ConfigError", "SourceConfig", "as_dict", "describe",
           "load_config"]
