"""The unit's one typed config: defaults, then a TOML file, then PIANOCAM_* variables, then secret files."""
from pianocam.config.settings import CalibrationConfig, Config, ConfigError, SourceConfig, as_dict, describe, load_config

__all__ = ["CalibrationConfig", "Config", "ConfigError", "SourceConfig", "as_dict", "describe", "load_config"]
