"""The canonical types: what every channel's data becomes inside omnisdk."""

from omnisdk.models.address import Address
from omnisdk.models.base import CanonicalModel, nfc
from omnisdk.models.bounds import (
    MAX_LEVEL,
    MAX_MINOR_UNITS,
    MAX_QUANTITY,
    check_quantity,
    listed_count,
)
from omnisdk.models.contact import Email, Phone, is_masked
from omnisdk.models.customer import Customer
from omnisdk.models.events import ChannelEvent, EventKind
from omnisdk.models.location import Location, LocationKind
from omnisdk.models.money import CURRENCY_MINOR_UNITS, Money, minor_units
from omnisdk.models.order import (
    Discount,
    FulfilmentMode,
    Order,
    OrderLine,
    OrderStatus,
    PaymentStatus,
    StockEffect,
)
from omnisdk.models.product import (
    Image,
    Product,
    ProductStatus,
    Sku,
    Variant,
    canonical_sku,
    validate_sku,
)
from omnisdk.models.promotion import (
    Promotion,
    PromotionItem,
    PromotionKind,
    PromotionMechanism,
    PromotionWrite,
)
from omnisdk.models.refs import ChannelRef
from omnisdk.models.stock import PriceUpdate, StockLevel, StockPushMode, StockUpdate

__all__ = [
    "CURRENCY_MINOR_UNITS",
    "MAX_LEVEL",
    "MAX_MINOR_UNITS",
    "MAX_QUANTITY",
    "Address",
    "CanonicalModel",
    "ChannelEvent",
    "ChannelRef",
    "Customer",
    "Discount",
    "Email",
    "EventKind",
    "FulfilmentMode",
    "Image",
    "Location",
    "LocationKind",
    "Money",
    "Order",
    "OrderLine",
    "OrderStatus",
    "PaymentStatus",
    "Phone",
    "PriceUpdate",
    "Product",
    "ProductStatus",
    "Promotion",
    "PromotionItem",
    "PromotionKind",
    "PromotionMechanism",
    "PromotionWrite",
    "Sku",
    "StockEffect",
    "StockLevel",
    "StockPushMode",
    "StockUpdate",
    "Variant",
    "canonical_sku",
    "check_quantity",
    "is_masked",
    "listed_count",
    "minor_units",
    "nfc",
    "validate_sku",
]
