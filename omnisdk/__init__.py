"""omnisdk: one catalog, one stock pool, one order book and one customer view across every
sales channel a merchant sells on.

The public API is re-exported here::

    from omnisdk import Money, Product, Order, Channel, Plugins, hookimpl
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from omnisdk.allocation import AllocationRequest, AllocationRule
from omnisdk.auth import MemoryTokenStore, Token, TokenStore
from omnisdk.channel import (
    Capability,
    Channel,
    ChannelInfo,
    ChannelLimits,
    ChannelSettings,
    OrderUpdate,
    WebhookRequest,
    WriteResult,
)
from omnisdk.errors import (
    AuthError,
    BadRequest,
    ChannelError,
    ConfigError,
    Conflict,
    InsufficientStock,
    InvalidValue,
    MappingError,
    NotFound,
    OmnisdkError,
    PlatformUnavailable,
    PluginError,
    RateLimited,
    ReauthorisationRequired,
    SandboxError,
    ServiceError,
    StoreError,
    UnknownRecord,
    UnsupportedOperation,
    UsageError,
    WebhookBodyError,
    WebhookVerificationError,
)
from omnisdk.hookspecs import hookimpl
from omnisdk.http import HttpClient, Lane, RateBudget
from omnisdk.models import (
    Address,
    ChannelEvent,
    ChannelRef,
    Customer,
    Discount,
    Email,
    EventKind,
    FulfilmentMode,
    Image,
    Location,
    LocationKind,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    PaymentStatus,
    Phone,
    PriceUpdate,
    Product,
    ProductStatus,
    StockLevel,
    StockPushMode,
    StockUpdate,
    Variant,
)
from omnisdk.plugins import Plugins, default_plugins

if TYPE_CHECKING:
    from omnisdk.config import Config, load_config
    from omnisdk.statuspage import StatusPage
    from omnisdk.sync import Engine, SyncEngine

# The engine, the config loader and the status page pull in SQLAlchemy and the store: import
# them on first use so `import omnisdk` stays light for plugins that only need the models and
# the contract.
_LAZY = {
    "Config": "omnisdk.config",
    "load_config": "omnisdk.config",
    "Engine": "omnisdk.sync",
    "SyncEngine": "omnisdk.sync",
    "StatusPage": "omnisdk.statuspage",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'omnisdk' has no attribute {name!r}")


try:
    __version__ = version("omnisdk")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = [
    "Address",
    "AllocationRequest",
    "AllocationRule",
    "AuthError",
    "BadRequest",
    "Capability",
    "Channel",
    "ChannelError",
    "ChannelEvent",
    "ChannelInfo",
    "ChannelLimits",
    "ChannelRef",
    "ChannelSettings",
    "Config",
    "ConfigError",
    "Conflict",
    "Customer",
    "Discount",
    "Email",
    "Engine",
    "EventKind",
    "FulfilmentMode",
    "HttpClient",
    "Image",
    "InsufficientStock",
    "InvalidValue",
    "Lane",
    "Location",
    "LocationKind",
    "MappingError",
    "MemoryTokenStore",
    "Money",
    "NotFound",
    "OmnisdkError",
    "Order",
    "OrderLine",
    "OrderStatus",
    "OrderUpdate",
    "PaymentStatus",
    "Phone",
    "PlatformUnavailable",
    "PluginError",
    "Plugins",
    "PriceUpdate",
    "Product",
    "ProductStatus",
    "RateBudget",
    "RateLimited",
    "ReauthorisationRequired",
    "SandboxError",
    "ServiceError",
    "StatusPage",
    "StockLevel",
    "StockPushMode",
    "StockUpdate",
    "StoreError",
    "SyncEngine",
    "Token",
    "TokenStore",
    "UnknownRecord",
    "UnsupportedOperation",
    "UsageError",
    "Variant",
    "WebhookBodyError",
    "WebhookRequest",
    "WebhookVerificationError",
    "WriteResult",
    "__version__",
    "default_plugins",
    "hookimpl",
    "load_config",
]
