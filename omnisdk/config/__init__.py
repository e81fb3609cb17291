"""The configuration file, ``omnisdk.toml``: where the store lives and which channel accounts exist.

::

    [store]
    url = "sqlite:///omnisdk.db"          # the default; postgresql+psycopg://... works too

    [[channels]]
    name = "hanoi-shop"                    # the account label, unique
    type = "shopify"                       # the plugin's channel name
    [channels.settings]                    # validated by that channel's settings_model
    shop = "hanoi"
    access_token = "${SHOPIFY_TOKEN}"      # any string may reference an environment variable
    [channels.allocation]                  # optional: omnisdk.allocation.AllocationRule fields
    safety_buffer = 2
    [channels.poll]                        # optional: how often the engine polls each stream
    orders = "1m"

Rules:

- ``${VAR}`` in any string value is replaced by the environment variable ``VAR``;
  ``${VAR:-default}`` uses ``default`` when ``VAR`` is unset or empty; ``$${`` writes a literal
  ``${``. A ``$`` not followed by ``{`` is kept as it is (passwords often contain one).
- A relative SQLite path is relative to the directory of the config file, so the same file
  finds the same database whatever the working directory.
- The file is found at the path given, else ``$OMNISDK_CONFIG``, else ``./omnisdk.toml``.
- Every problem is reported with the file, the line (when it can be found) and the key path
  (``channels[0].settings.access_token``), and says what was expected. Values of secret
  settings never appear in a message.
"""

from omnisdk.config.channels import build_channel
from omnisdk.config.durations import Duration, parse_duration
from omnisdk.config.env import expand_env
from omnisdk.config.loading import (
    CONFIG_ENV,
    DEFAULT_CONFIG_FILE,
    find_config,
    load_config,
    parse_config,
)
from omnisdk.config.models import (
    DEFAULT_LOCATION,
    DEFAULT_STORE_URL,
    CeleryConfig,
    ChannelConfig,
    Config,
    EngineConfig,
    PollIntervals,
    StoreConfig,
    reserve_location,
)
from omnisdk.config.problems import ConfigProblem, InvalidConfig
from omnisdk.errors import ConfigError

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_LOCATION",
    "DEFAULT_STORE_URL",
    "CeleryConfig",
    "ChannelConfig",
    "Config",
    "ConfigError",
    "ConfigProblem",
    "Duration",
    "EngineConfig",
    "InvalidConfig",
    "PollIntervals",
    "StoreConfig",
    "build_channel",
    "expand_env",
    "find_config",
    "load_config",
    "parse_config",
    "parse_duration",
    "reserve_location",
]
