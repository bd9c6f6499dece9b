"""A system-neutral seed catalog that both sandboxes load, so their data is consistent: a product
synced between the systems has the same SKU in Magento as its variation number in PlentyONE.

``generate(size=..., seed=...)`` builds it; ``PlentyState.load_catalog`` and
``MagentoState.load_catalog`` turn it into each system's own records. Nothing here knows either API.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

ProductType = Literal["simple", "virtual", "configurable", "bundle", "grouped"]
Presence = Literal["both", "magento_only", "plenty_only"]
OrderStatus = Literal["pending", "processing", "complete", "canceled", "holded"]
PaymentMethod = Literal["checkmo", "banktransfer", "paypal_express", "free"]
Origin = Literal["magento", "plenty"]
_T = TypeVar("_T")


@dataclass
class SeedCategory:
    key: str
    """Stable key, e.g. ``"c3"``."""
    parent_key: str | None
    names: dict[str, str]
    """Name per language code (``"de"``, ``"en"``, ``"fr"``)."""
    position: int = 0


@dataclass
class SeedAttribute:
    code: str
    """Magento attribute code, e.g. ``"color"``; PlentyONE backend name."""
    labels: dict[str, str]
    values: list[dict[str, str]]
    """One entry per option: label per language (key ``"admin"`` is the internal value)."""


@dataclass
class SeedStock:
    location: str
    """Source/warehouse key (``"default"``, ``"berlin"``, ``"hamburg"``); see ``SeedCatalog.locations``."""
    quantity: int


@dataclass
class SeedProduct:
    sku: str
    type: ProductType
    names: dict[str, str]
    price: float
    presence: Presence = "both"
    description: dict[str, str] = field(default_factory=dict)
    weight: float = 0.5
    ean: str | None = None
    category_keys: list[str] = field(default_factory=list)
    enabled: bool = True
    parent_sku: str | None = None
    """For configurable children: the parent's SKU."""
    attribute_values: dict[str, int] = field(default_factory=dict)
    """Attribute code -> index into ``SeedAttribute.values`` (configurable children)."""
    configurable_attributes: list[str] = field(default_factory=list)
    """For configurable parents: the attribute codes the children vary in."""
    components: list[tuple[str, float]] = field(default_factory=list)
    """Bundle and grouped products: (component SKU, quantity)."""
    stock: list[SeedStock] = field(default_factory=list)
    updated_at: datetime | None = None


@dataclass
class SeedAddress:
    first_name: str
    last_name: str
    street: str
    house_number: str
    postcode: str
    city: str
    country: str
    """ISO 3166-1 alpha-2."""
    company: str | None = None
    vat_id: str | None = None
    phone: str | None = None
    is_default_billing: bool = False
    is_default_shipping: bool = False


@dataclass
class SeedCustomer:
    key: str
    email: str
    first_name: str
    last_name: str
    group: Literal["general", "wholesale", "retailer"] = "general"
    b2b: bool = False
    company: str | None = None
    vat_id: str | None = None
    gender: Literal["male", "female", "diverse"] | None = None
    language: str = "de"
    addresses: list[SeedAddress] = field(default_factory=list)
    presence: Presence = "both"


@dataclass
class SeedOrderLine:
    sku: str
    quantity: float
    unit_price_gross: float
    name: str
    tax_rate: float = 19.0


@dataclass
class SeedOrder:
    number: str
    """The Magento increment id (``"000000123"``); PlentyONE keeps it as external order id."""
    customer_key: str | None
    """``None``: a guest order."""
    email: str
    billing: SeedAddress
    shipping: SeedAddress
    lines: list[SeedOrderLine]
    shipping_gross: float
    currency: str = "EUR"
    payment_method: Literal["checkmo", "banktransfer", "paypal_express", "free"] = "banktransfer"
    status: Literal["pending", "processing", "complete", "canceled", "holded"] = "pending"
    coupon_code: str | None = None
    discount_gross: float = 0.0
    created_at: datetime | None = None
    origin: Literal["magento", "plenty"] = "magento"
    """Where the order was placed; Amazon/eBay orders live in PlentyONE only."""


@dataclass
class SeedLocation:
    key: str
    name: str
    country: str = "DE"


@dataclass
class SeedCatalog:
    languages: list[str]
    locations: list[SeedLocation]
    categories: list[SeedCategory]
    attributes: list[SeedAttribute]
    products: list[SeedProduct]
    customers: list[SeedCustomer]
    orders: list[SeedOrder]

    def product(self, sku: str) -> SeedProduct:
        for product in self.products:
            if product.sku == sku:
                return product
        raise KeyError(sku)


LANGUAGES = ["de", "en", "fr"]
SELLABLE_TYPES: frozenset[str] = frozenset({"simple", "virtual"})
"""Types a customer can put in the basket (plus configurable children, which are ``simple``)."""


def is_sellable(product: SeedProduct) -> bool:
    """Whether an order line may name this product: enabled simple/virtual products and children."""
    return product.enabled and product.type in SELLABLE_TYPES


def in_magento(presence: Presence) -> bool:
    return presence != "plenty_only"


def in_plenty(presence: Presence) -> bool:
    return presence != "magento_only"


def ean13_check_digit(first12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


# --- generation ---------------------------------------------------------------------------------
# Word lists are (de, en, fr) triples.

_ROOTS = [
    ("Bekleidung", "Clothing", "Vêtements"),
    ("Haus & Garten", "Home & Garden", "Maison & Jardin"),
    ("Elektronik", "Electronics", "Électronique"),
    ("Sport & Freizeit", "Sports & Leisure", "Sport & Loisirs"),
]
_SUBS = [
    ("Damen", "Women", "Femmes"),
    ("Herren", "Men", "Hommes"),
    ("Küche", "Kitchen", "Cuisine"),
    ("Garten", "Garden", "Jardin"),
    ("Audio", "Audio", "Audio"),
    ("Zubehör", "Accessories", "Accessoires"),
    ("Laufen", "Running", "Course à pied"),
    ("Camping", "Camping", "Camping"),
]
_LEAVES = [
    ("Jacken", "Jackets", "Vestes"),
    ("T-Shirts", "T-shirts", "T-shirts"),
    ("Schuhe", "Shoes", "Chaussures"),
    ("Töpfe & Pfannen", "Pots & pans", "Casseroles & poêles"),
    ("Gartengeräte", "Garden tools", "Outils de jardin"),
    ("Kopfhörer", "Headphones", "Casques"),
    ("Kabel", "Cables", "Câbles"),
    ("Zelte", "Tents", "Tentes"),
    ("Rucksäcke", "Backpacks", "Sacs à dos"),
    ("Trinkflaschen", "Water bottles", "Gourdes"),
    ("Lampen", "Lamps", "Lampes"),
    ("Schals", "Scarves", "Écharpes"),
]
_NOUNS = [
    ("Jacke", "Jacket", "Veste"),
    ("T-Shirt", "T-shirt", "T-shirt"),
    ("Tasse", "Mug", "Tasse"),
    ("Lampe", "Lamp", "Lampe"),
    ("Rucksack", "Backpack", "Sac à dos"),
    ("Kopfhörer", "Headphones", "Casque"),
    ("Pfanne", "Frying pan", "Poêle"),
    ("Zelt", "Tent", "Tente"),
    ("Trinkflasche", "Water bottle", "Gourde"),
    ("Schal", "Scarf", "Écharpe"),
    ("Ladekabel", "Charging cable", "Câble de charge"),
    ("Gartenschere", "Pruning shears", "Sécateur"),
]
_VIRTUAL_NOUNS = [
    ("Geschenkgutschein", "Gift card", "Carte cadeau"),
    ("Garantieverlängerung", "Extended warranty", "Extension de garantie"),
    ("Montageservice", "Assembly service", "Service de montage"),
]
_MODELS = [
    "Aurora", "Borealis", "Cirrus", "Delta", "Élan", "Fjord", "Gala", "Horizon", "Iris", "Jura",
    "Kobalt", "Lumen", "Mistral", "Nova", "Orbit", "Polar", "Quarz", "Riviera", "Sierra", "Tundra",
]  # fmt: skip
_COLORS = [
    {"admin": "red", "de": "Rot", "en": "Red", "fr": "Rouge"},
    {"admin": "blue", "de": "Blau", "en": "Blue", "fr": "Bleu"},
    {"admin": "green", "de": "Grün", "en": "Green", "fr": "Vert"},
    {"admin": "black", "de": "Schwarz", "en": "Black", "fr": "Noir"},
    {"admin": "white", "de": "Weiß", "en": "White", "fr": "Blanc"},
]
_SIZES = [{"admin": code, "de": code, "en": code, "fr": code} for code in ("S", "M", "L", "XL", "XXL")]
_FIRST_NAMES: list[tuple[str, Literal["male", "female", "diverse"] | None]] = [
    ("Anna", "female"), ("Jürgen", "male"), ("François", "male"), ("Zoë", "female"), ("Sören", "male"),
    ("Chloé", "female"), ("Lukas", "male"), ("Marie", "female"), ("Kim", "diverse"), ("Noah", None),
    ("Léa", "female"), ("Björn", "male"), ("Sanne", "female"), ("Emily", "female"), ("Thomas", "male"),
]  # fmt: skip
_LAST_NAMES = [
    "Müller", "Schmidt", "Weiß", "Dupont", "Lefèvre", "de Vries", "Jansen", "Huber", "Gruber", "Meier",
    "Smith", "O'Brien", "Nguyen", "Groß", "Bäcker",
]  # fmt: skip
_COUNTRIES = ["DE", "DE", "DE", "DE", "AT", "CH", "FR", "NL", "US", "DE"]
_PLACES: dict[str, tuple[list[str], list[str], str]] = {
    # country: (streets, cities, phone prefix)
    "DE": (
        ["Hauptstraße", "Schillerstraße", "Am Mühlbach", "Königsallee"],
        ["Berlin", "Hamburg", "München", "Köln"],
        "+49",
    ),
    "AT": (["Mariahilfer Straße", "Getreidegasse"], ["Wien", "Salzburg", "Graz"], "+43"),
    "CH": (["Bahnhofstrasse", "Rue du Rhône"], ["Zürich", "Genève", "Bern"], "+41"),
    "FR": (["Rue de Rivoli", "Avenue des Champs-Élysées", "Rue Lepic"], ["Paris", "Lyon", "Strasbourg"], "+33"),
    "NL": (["Keizersgracht", "Coolsingel"], ["Amsterdam", "Rotterdam", "Utrecht"], "+31"),
    "US": (["Main Street", "5th Avenue"], ["New York", "Chicago", "Seattle"], "+1"),
}
_LEGAL_FORMS = {"DE": "GmbH", "AT": "GmbH", "CH": "AG", "FR": "SARL", "NL": "B.V.", "US": "Inc."}
_LANGUAGE_OF = {"DE": "de", "AT": "de", "CH": "de", "FR": "fr", "NL": "en", "US": "en"}

# Per size unit.
_SIMPLES, _VIRTUALS, _CONFIGURABLES, _BUNDLES, _GROUPED = 18, 3, 3, 2, 2
_CUSTOMERS, _ORDERS = 20, 30


def _names(triple: tuple[str, str, str], suffix: str = "") -> dict[str, str]:
    return {lang: f"{text}{suffix}" for lang, text in zip(LANGUAGES, triple, strict=True)}


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.replace("ß", "ss")).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


class _CatalogBuilder:
    """Builds one catalog block by block (one block per size unit), from one seeded generator."""

    def __init__(self, *, size: int, seed: int, now: datetime) -> None:
        self.size = size
        self.now = now
        self.rng = random.Random(f"plentysync-seed-catalog:{seed}:{size}")
        self.categories: list[SeedCategory] = []
        self.products: list[SeedProduct] = []
        self.customers: list[SeedCustomer] = []
        self.orders: list[SeedOrder] = []
        self._ean_counter = 0
        self._sku_counter = 0

    def build(self) -> SeedCatalog:
        for block in range(self.size):
            leaves = self._categories(block)
            self._products(block, leaves)
            self._customers(block)
        self._orders()
        return SeedCatalog(
            languages=list(LANGUAGES),
            locations=[
                SeedLocation("default", "Main warehouse"),
                SeedLocation("berlin", "Berlin"),
                SeedLocation("hamburg", "Hamburg"),
            ],
            categories=self.categories,
            attributes=[
                SeedAttribute("color", {"de": "Farbe", "en": "Color", "fr": "Couleur"}, [dict(v) for v in _COLORS]),
                SeedAttribute("size", {"de": "Größe", "en": "Size", "fr": "Taille"}, [dict(v) for v in _SIZES]),
            ],
            products=self.products,
            customers=self.customers,
            orders=self.orders,
        )

    # categories: per block 2 roots, 4 subcategories, 6 leaves (3 levels, 12 categories)

    def _category(self, parent: str | None, triple: tuple[str, str, str], suffix: str, position: int) -> str:
        key = f"c{len(self.categories) + 1}"
        self.categories.append(SeedCategory(key, parent, _names(triple, suffix), position))
        return key

    def _categories(self, block: int) -> list[str]:
        suffix = f" {block + 1}" if block else ""
        keys: list[str] = []
        for r in range(2):
            root = self._category(None, _ROOTS[(2 * block + r) % len(_ROOTS)], suffix, len(keys))
            keys.append(root)
            for s in range(2):
                sub_index = 4 * block + 2 * r + s
                sub = self._category(root, _SUBS[sub_index % len(_SUBS)], suffix, s)
                keys.append(sub)
                for leaf in range(2 - s):
                    leaf_index = 6 * block + 3 * r + 2 * s + leaf
                    keys.append(self._category(sub, _LEAVES[leaf_index % len(_LEAVES)], suffix, leaf))
        return keys

    # products

    def _next_sku(self, prefix: str) -> str:
        self._sku_counter += 1
        return f"{prefix}{self._sku_counter:05d}"

    def _ean(self) -> str:
        self._ean_counter += 1
        first12 = f"4006381{self._ean_counter:05d}"
        return first12 + ean13_check_digit(first12)

    def _price(self, low: float = 4.0, high: float = 199.0) -> float:
        return round(self.rng.randint(int(low), int(high)) + 0.99, 2)

    def _stock(self) -> list[SeedStock]:
        others = self.rng.sample(["berlin", "hamburg"], self.rng.randint(0, 2))
        return [
            SeedStock(location, 0 if self.rng.random() < 0.15 else self.rng.randint(1, 250))
            for location in ["default", *others]
        ]

    def _updated_at(self) -> datetime:
        return self.now - timedelta(seconds=self.rng.randint(3600, 90 * 86400))

    def _description(self, names: dict[str, str]) -> dict[str, str]:
        tails = {
            "de": "Langlebig und sorgfältig verarbeitet.",
            "en": "Durable and carefully made.",
            "fr": "Solide et soigné.",
        }
        return {lang: f"<p>{names[lang]} – {tails[lang]}</p>" for lang in LANGUAGES}

    def _product(self, sku: str, type_: ProductType, triple: tuple[str, str, str], **fields: Any) -> SeedProduct:
        names = _names(triple, f" {self.rng.choice(_MODELS)}")
        product = SeedProduct(
            sku=sku,
            type=type_,
            names=names,
            price=fields.pop("price", None) or self._price(),
            description=self._description(names),
            updated_at=self._updated_at(),
            **fields,
        )
        self.products.append(product)
        return product

    def _shuffled(self, *counts: tuple[_T, int]) -> list[_T]:
        """Each value as often as given, in random order: exact proportions, random placement."""
        values = [value for value, count in counts for _ in range(count)]
        self.rng.shuffle(values)
        return values

    def _presences(self, total: int, magento_only: int, plenty_only: int) -> list[Presence]:
        both = total - magento_only - plenty_only
        return self._shuffled(("magento_only", magento_only), ("plenty_only", plenty_only), ("both", both))

    def _pick_categories(self, keys: list[str]) -> list[str]:
        return sorted(self.rng.sample(keys, self.rng.randint(1, 2)), key=lambda k: int(k[1:]))

    def _products(self, block: int, category_keys: list[str]) -> None:
        shared: list[SeedProduct] = []
        presences = self._presences(_SIMPLES, 2, 3)
        both_indexes = [i for i, p in enumerate(presences) if p == "both"]
        disabled_index, *special = both_indexes[:3] if block == 0 else both_indexes[:1]
        for i, presence in enumerate(presences):
            sku = self._next_sku("A")
            if i in special:
                sku = f"{sku}/S" if i == special[0] else f"{sku} B"
            product = self._product(
                sku,
                "simple",
                self.rng.choice(_NOUNS),
                presence=presence,
                weight=round(self.rng.uniform(0.1, 8.0), 2),
                ean=self._ean() if self.rng.random() < 0.85 else None,
                category_keys=self._pick_categories(category_keys),
                enabled=i != disabled_index,
                stock=self._stock(),
            )
            if presence == "both" and product.enabled:
                shared.append(product)
        for presence in self._presences(_VIRTUALS, 1, 1):
            self._product(
                self._next_sku("V"),
                "virtual",
                self.rng.choice(_VIRTUAL_NOUNS),
                presence=presence,
                weight=0.0,
                category_keys=self._pick_categories(category_keys),
            )
        for variant in range(_CONFIGURABLES):
            self._configurable(variant, category_keys)
        for _ in range(_BUNDLES):
            parts = self.rng.sample(shared, self.rng.randint(2, 3))
            self._product(
                self._next_sku("BD"),
                "bundle",
                ("Set", "Bundle", "Lot"),
                price=round(sum(p.price for p in parts) * 0.9, 2),
                category_keys=self._pick_categories(category_keys),
                components=[(p.sku, float(self.rng.randint(1, 2))) for p in parts],
            )
        for presence in ("both", "magento_only"):
            parts = self.rng.sample(shared, self.rng.randint(2, 4))
            self._product(
                self._next_sku("GR"),
                "grouped",
                ("Kollektion", "Collection", "Collection"),
                presence=presence,
                price=min(p.price for p in parts),
                category_keys=self._pick_categories(category_keys),
                components=[(p.sku, 1.0) for p in parts],
            )

    def _configurable(self, variant: int, category_keys: list[str]) -> None:
        attributes = [["color", "size"], ["color"], ["size"]][variant % 3]
        options = {"color": list(range(len(_COLORS))), "size": list(range(len(_SIZES)))}
        combos: list[dict[str, int]] = [{}]
        for code in attributes:
            combos = [{**combo, code: index} for combo in combos for index in options[code]]
        chosen = self.rng.sample(combos, self.rng.randint(2, min(6, len(combos))))
        chosen.sort(key=lambda combo: tuple(combo[code] for code in attributes))
        triple = self.rng.choice(_NOUNS[:2] + _NOUNS[9:10])
        parent = self._product(
            self._next_sku("CF"),
            "configurable",
            triple,
            configurable_attributes=attributes,
            category_keys=self._pick_categories(category_keys),
        )
        for combo in chosen:
            values = {"color": _COLORS, "size": _SIZES}
            suffix = "-".join(values[code][combo[code]]["admin"].upper() for code in attributes)
            labels = {lang: " ".join(values[code][combo[code]][lang] for code in attributes) for lang in LANGUAGES}
            child = SeedProduct(
                sku=f"{parent.sku}-{suffix}",
                type="simple",
                names={lang: f"{parent.names[lang]} {labels[lang]}" for lang in LANGUAGES},
                price=round(parent.price + (5.0 if combo.get("size", 0) >= 3 else 0.0), 2),
                presence=parent.presence,
                description=dict(parent.description),
                weight=round(self.rng.uniform(0.2, 2.0), 2),
                ean=self._ean(),
                parent_sku=parent.sku,
                attribute_values=combo,
                stock=self._stock(),
                updated_at=self._updated_at(),
            )
            self.products.append(child)

    # customers

    def _postcode(self, country: str) -> str:
        digits = "".join(str(self.rng.randint(0, 9)) for _ in range(5))
        if country in ("AT", "CH"):
            return str(self.rng.randint(1000, 9999))
        if country == "NL":
            letters = self.rng.choice("ABEHKLMNPRSTVXZ") + self.rng.choice("ABEHKLMNPRSTXZ")
            return f"{self.rng.randint(1000, 9999)} {letters}"
        if country == "DE" and digits.startswith("00"):
            return "1" + digits[1:]
        return digits

    def _vat_id(self, country: str) -> str | None:
        def digits(n: int) -> str:
            return "".join(str(self.rng.randint(0, 9)) for _ in range(n))

        formats = {
            "DE": lambda: f"DE{self.rng.randint(1, 9)}{digits(8)}",
            "AT": lambda: f"ATU{self.rng.randint(1, 9)}{digits(7)}",
            "FR": lambda: f"FR{digits(2)}{self.rng.randint(1, 9)}{digits(8)}",
            "NL": lambda: f"NL{digits(9)}B{self.rng.randint(1, 99):02d}",
            "CH": lambda: f"CHE-{digits(3)}.{digits(3)}.{digits(3)} MWST",
        }
        make = formats.get(country)
        return make() if make else None

    def _address(
        self, first: str, last: str, country: str, company: str | None = None, vat_id: str | None = None
    ) -> SeedAddress:
        streets, cities, prefix = _PLACES[country]
        number = str(self.rng.randint(1, 180)) + (self.rng.choice("ab") if self.rng.random() < 0.15 else "")
        return SeedAddress(
            first_name=first,
            last_name=last,
            street=self.rng.choice(streets),
            house_number=number,
            postcode=self._postcode(country),
            city=self.rng.choice(cities),
            country=country,
            company=company,
            vat_id=vat_id,
            phone=f"{prefix} {self.rng.randint(100, 999)} {self.rng.randint(100000, 9999999)}"
            if self.rng.random() < 0.6
            else None,
        )

    def _customers(self, block: int) -> None:
        presences = self._presences(_CUSTOMERS, 2, 2)
        address_counts = self._shuffled((0, 2), (1, 10), (2, 5), (3, 3))
        b2b_slots = set(self.rng.sample(range(_CUSTOMERS), 4))
        for i in range(_CUSTOMERS):
            number = len(self.customers) + 1
            first, gender = self.rng.choice(_FIRST_NAMES)
            last = self.rng.choice(_LAST_NAMES)
            country = self.rng.choice(_COUNTRIES)
            b2b = i in b2b_slots
            company = f"{last} {self.rng.choice(['Handel', 'Technik', 'Trading', 'Design'])} {_LEGAL_FORMS[country]}"
            vat_id = self._vat_id(country) if b2b else None
            addresses = []
            for a in range(address_counts[i]):
                where = country if a == 0 else self.rng.choice(_COUNTRIES)
                address = self._address(first, last, where, company if b2b else None, vat_id if a == 0 else None)
                address.is_default_billing = address.is_default_shipping = a == 0
                addresses.append(address)
            self.customers.append(
                SeedCustomer(
                    key=f"cust-{number:04d}",
                    email=f"{_ascii(first)}.{_ascii(last)}.{number}@example.com",
                    first_name=first,
                    last_name=last,
                    group=("wholesale" if i % 2 else "retailer") if b2b else "general",
                    b2b=b2b,
                    company=company if b2b else None,
                    vat_id=vat_id,
                    gender=gender,
                    language=_LANGUAGE_OF[country],
                    addresses=addresses,
                    presence=presences[i],
                )
            )

    # orders: 30 per block, numbered by creation time

    def _orders(self) -> None:
        sellable = [p for p in self.products if is_sellable(p)]
        pools = {
            "magento": [p for p in sellable if in_magento(p.presence)],
            "plenty": [p for p in sellable if in_plenty(p.presence)],
        }
        children = {origin: [p for p in pool if p.parent_sku] for origin, pool in pools.items()}
        buyers = {
            "magento": [c for c in self.customers if in_magento(c.presence)],
            "plenty": [c for c in self.customers if in_plenty(c.presence)],
        }
        drafts: list[SeedOrder] = []
        for _ in range(self.size):
            statuses: list[OrderStatus] = self._shuffled(
                ("pending", 8), ("processing", 8), ("complete", 8), ("canceled", 3), ("holded", 3)
            )
            origins: list[Origin] = self._shuffled(("plenty", 6), ("magento", 24))
            line_counts = self._shuffled((1, 12), (2, 9), (3, 6), (4, 3))
            extras = self._shuffled(("free", 1), ("coupon", 5), ("guest", 10), ("", 14))
            for i in range(_ORDERS):
                origin = origins[i]
                drafts.append(
                    self._order(
                        origin,
                        status=statuses[i],
                        line_count=line_counts[i],
                        extra=extras[i],
                        pool=pools[origin],
                        children=children[origin] if i % 3 == 0 else [],
                        buyers=buyers[origin],
                    )
                )
        drafts.sort(key=lambda order: order.created_at or self.now)
        for number, order in enumerate(drafts, start=1):
            order.number = f"{number:09d}"
        self.orders = drafts

    def _order(
        self,
        origin: Origin,
        *,
        status: OrderStatus,
        line_count: int,
        extra: str,
        pool: list[SeedProduct],
        children: list[SeedProduct],
        buyers: list[SeedCustomer],
    ) -> SeedOrder:
        customer = None if extra == "guest" or not buyers else self.rng.choice(buyers)
        if customer is None:
            first, _gender = self.rng.choice(_FIRST_NAMES)
            last = self.rng.choice(_LAST_NAMES)
            email = f"{_ascii(first)}.{_ascii(last)}.guest{self.rng.randint(1000, 99999)}@example.org"
            billing = self._address(first, last, self.rng.choice(_COUNTRIES))
            shipping = billing if self.rng.random() < 0.8 else self._address(first, last, billing.country)
            language = _LANGUAGE_OF[billing.country]
        else:
            email, language = customer.email, customer.language
            if customer.addresses:
                billing = customer.addresses[0]
                shipping = self.rng.choice(customer.addresses) if self.rng.random() < 0.3 else billing
            else:
                billing = shipping = self._address(customer.first_name, customer.last_name, _COUNTRIES[0])
        picked = self.rng.sample(children, 1) if children else []
        rest = [p for p in pool if p not in picked]
        picked += self.rng.sample(rest, line_count - len(picked))
        self.rng.shuffle(picked)
        lines = [
            SeedOrderLine(
                sku=p.sku,
                quantity=float(self.rng.randint(1, 3)),
                unit_price_gross=p.price,
                name=p.names[language],
                tax_rate=19.0,
            )
            for p in picked
        ]
        subtotal = round(sum(line.quantity * line.unit_price_gross for line in lines), 2)
        shipping_gross = 0.0 if subtotal >= 50 else 4.95
        payment: PaymentMethod = self.rng.choice(("checkmo", "banktransfer", "paypal_express"))
        coupon, discount = None, 0.0
        if extra == "coupon":
            coupon, discount = "SAVE10", round(subtotal * 0.10, 2)
        elif extra == "free":
            coupon, discount, shipping_gross, payment = "GIFT100", subtotal, 0.0, "free"
        return SeedOrder(
            number="",
            customer_key=customer.key if customer else None,
            email=email,
            billing=replace(billing, is_default_billing=False, is_default_shipping=False),
            shipping=replace(shipping, is_default_billing=False, is_default_shipping=False),
            lines=lines,
            shipping_gross=shipping_gross,
            payment_method=payment,
            status=status,
            coupon_code=coupon,
            discount_gross=discount,
            created_at=self.now - timedelta(seconds=self.rng.randint(60, 30 * 86400)),
            origin=origin,
        )


def generate(size: int = 1, seed: int = 7, now: datetime | None = None) -> SeedCatalog:
    """A consistent catalog for both sandboxes. The same ``size``, ``seed`` and ``now`` give the same
    catalog; ``now`` (default: the current time) only anchors the timestamps. Counts grow linearly
    with ``size``: per unit about 40 products, 12 categories, 20 customers and 30 orders."""
    if size < 1:
        raise ValueError("size must be at least 1")
    anchor = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    return _CatalogBuilder(size=size, seed=seed, now=anchor).build()
