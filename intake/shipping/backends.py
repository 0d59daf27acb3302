"""The carrier backends: `manual` (staff type the carrier and tracking number) and `easypost`
(rates for the patient's address, a bought label, its refund), behind one small interface.

Every carrier failure (an address the carrier refuses, no rate, a bad API key, the service down)
becomes a CarrierError whose message staff can act on; the SDK's own errors never leave here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from django.conf import settings
from easypost import EasyPostClient
from easypost.errors import ApiError, EasyPostError, FilteringError
from easypost.util import get_lowest_object_rate


class CarrierError(Exception):
    """The carrier service refused or could not answer; the message is for the pharmacy's staff."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ShipTo:
    """The patient's address as the carrier needs it."""

    name: str
    street1: str
    street2: str
    city: str
    state: str
    zip: str
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class Rate:
    carrier: str
    service: str
    price: Decimal
    currency: str
    days: int | None

    @property
    def choice(self) -> str:
        """How a form names this rate: carrier and service, stable across two quotes."""
        return f"{self.carrier}:{self.service}"


@dataclass(frozen=True)
class Quote:
    """A shipment the carrier service priced; buying it later uses this id."""

    shipment_id: str
    rates: tuple[Rate, ...]


@dataclass(frozen=True)
class AddressCheck:
    """The carrier's answer about an address: whether it can deliver there and, if not, why."""

    deliverable: bool
    message: str = ""


@dataclass(frozen=True)
class Label:
    carrier: str
    service: str
    tracking_code: str
    label_url: str
    shipment_id: str


class ShippingBackend(Protocol):
    name: str
    # False: staff type the carrier and tracking number themselves.
    buys_labels: bool

    def quote(self, ship_to: ShipTo) -> Quote: ...

    def buy(self, shipment_id: str, *, carrier: str = "", service: str = "") -> Label: ...

    def refund(self, shipment_id: str) -> None: ...

    def check_address(self, ship_to: ShipTo) -> AddressCheck: ...


class ManualBackend:
    """No carrier service: the carrier and tracking number are typed in when the parcel leaves."""

    name = "manual"
    buys_labels = False

    def quote(self, ship_to: ShipTo) -> Quote:
        raise CarrierError("No carrier service is configured: type the carrier and the tracking number.")

    def buy(self, shipment_id: str, *, carrier: str = "", service: str = "") -> Label:
        raise CarrierError("No carrier service is configured: type the carrier and the tracking number.")

    def refund(self, shipment_id: str) -> None:
        raise CarrierError("No carrier service is configured: nothing was bought.")

    def check_address(self, ship_to: ShipTo) -> AddressCheck:
        raise CarrierError("No carrier service is configured: addresses are not checked.")


def _carrier_message(exc: EasyPostError) -> str:
    status = getattr(exc, "http_status", None)
    said = (getattr(exc, "message", "") or str(exc)).strip().rstrip(".")
    if status in (401, 403):
        return "The carrier service refused the pharmacy's API key (EASYPOST_API_KEY): ask the administrator."
    if status in (422, 400, 404):
        return f"The carrier service refused this shipment: {said}. Check the patient's address."
    if status == 402:
        return "The carrier service refused the purchase: the pharmacy's account needs funds."
    return "The carrier service did not answer; try again in a minute or type a tracking number."


def _to_address(ship_to: ShipTo) -> dict[str, str]:
    return {
        "name": ship_to.name,
        "street1": ship_to.street1,
        "street2": ship_to.street2,
        "city": ship_to.city,
        "state": ship_to.state,
        "zip": ship_to.zip,
        "country": "US",
        "phone": ship_to.phone,
        "email": ship_to.email,
    }


def _rate(raw: Any) -> Rate:
    try:
        price = Decimal(str(raw.rate))
    except (InvalidOperation, AttributeError):
        price = Decimal(0)
    days = getattr(raw, "delivery_days", None) or getattr(raw, "est_delivery_days", None)
    return Rate(
        carrier=str(raw.carrier),
        service=str(raw.service),
        price=price,
        currency=str(getattr(raw, "currency", "USD") or "USD"),
        days=int(days) if days else None,
    )


class EasyPostBackend:
    """Labels bought through EasyPost with the official SDK."""

    name = "easypost"
    buys_labels = True

    def __init__(
        self,
        *,
        api_key: str,
        from_address: dict[str, str],
        parcel: dict[str, float],
        carriers: tuple[str, ...] = (),
        services: tuple[str, ...] = (),
        api_base: str = "",
        timeout: int = 20,
    ) -> None:
        if not api_key:
            raise CarrierError("The carrier service has no API key (EASYPOST_API_KEY): ask the administrator.")
        options: dict[str, Any] = {"timeout": timeout}
        if api_base:
            options["api_base"] = api_base
        self.client = EasyPostClient(api_key, **options)
        self.from_address = from_address
        self.parcel = parcel
        self.carriers = carriers
        self.services = services

    def _allowed(self, rate: Rate) -> bool:
        carriers = {c.lower() for c in self.carriers}
        services = {s.lower() for s in self.services}
        return (not carriers or rate.carrier.lower() in carriers) and (not services or rate.service.lower() in services)

    def quote(self, ship_to: ShipTo) -> Quote:
        try:
            shipment = self.client.shipment.create(
                to_address=_to_address(ship_to), from_address=self.from_address, parcel=self.parcel
            )
        except EasyPostError as exc:
            raise CarrierError(_carrier_message(exc)) from exc
        rates = tuple(sorted((r for r in map(_rate, shipment.rates) if self._allowed(r)), key=lambda r: r.price))
        if not rates:
            said = "; ".join(str(getattr(m, "message", m)) for m in (getattr(shipment, "messages", None) or []))
            raise CarrierError(
                "The carrier service offers no rate the pharmacy uses for this address"
                + (f" ({said})." if said else ".")
                + " Check the patient's address."
            )
        return Quote(shipment_id=str(shipment.id), rates=rates)

    def buy(self, shipment_id: str, *, carrier: str = "", service: str = "") -> Label:
        """Buy the shipment's cheapest allowed rate (of `carrier`/`service` when given). A shipment
        is bought at most once by the carrier service: one already bought answers its label."""
        try:
            shipment = self.client.shipment.retrieve(shipment_id)
            if not getattr(shipment, "postage_label", None):
                rates = [r for r in shipment.rates if self._allowed(_rate(r))]
                picked = get_lowest_object_rate(
                    {"rates": rates}, [carrier] if carrier else None, [service] if service else None
                )
                try:
                    shipment = self.client.shipment.buy(shipment_id, rate=picked)
                except ApiError:
                    # Two buyers at once: the carrier sells the shipment once; the loser reads the label.
                    shipment = self.client.shipment.retrieve(shipment_id)
                    if not getattr(shipment, "postage_label", None):
                        raise
        except FilteringError as exc:
            raise CarrierError(f"The carrier service offers no {carrier} {service} rate for this parcel.") from exc
        except EasyPostError as exc:
            raise CarrierError(_carrier_message(exc)) from exc
        return Label(
            carrier=str(shipment.selected_rate.carrier),
            service=str(shipment.selected_rate.service),
            tracking_code=str(shipment.tracking_code),
            label_url=str(shipment.postage_label.label_url),
            shipment_id=str(shipment.id),
        )

    def refund(self, shipment_id: str) -> None:
        try:
            self.client.shipment.refund(shipment_id)
        except EasyPostError as exc:
            raise CarrierError(_carrier_message(exc)) from exc

    def check_address(self, ship_to: ShipTo) -> AddressCheck:
        """Ask the carrier service whether it can deliver to the address (its delivery verification).
        CarrierError when it could not answer (down, refused the key): ask again later."""
        try:
            fields: dict[str, Any] = _to_address(ship_to)
            address = self.client.address.create(verify=True, **fields)
        except EasyPostError as exc:
            raise CarrierError(_carrier_message(exc)) from exc
        delivery = getattr(getattr(address, "verifications", None), "delivery", None)
        if delivery is None:
            raise CarrierError("The carrier service did not say whether it can deliver to this address.")
        if getattr(delivery, "success", False):
            return AddressCheck(deliverable=True)
        said = "; ".join(
            str(getattr(error, "message", "") or getattr(error, "code", "")).strip().rstrip(".")
            for error in getattr(delivery, "errors", None) or []
        )
        return AddressCheck(deliverable=False, message=(said or "The carrier cannot deliver to this address")[:250])


def shipping_buys_labels() -> bool:
    return settings.SHIPPING_BACKEND == "easypost"


def shipping_backend() -> ShippingBackend:
    """The backend the settings choose."""
    if shipping_buys_labels():
        return EasyPostBackend(
            api_key=settings.EASYPOST_API_KEY,
            from_address=settings.SHIPPING_FROM_ADDRESS,
            parcel=settings.SHIPPING_PARCEL,
            carriers=tuple(settings.SHIPPING_CARRIERS),
            services=tuple(settings.SHIPPING_SERVICES),
            api_base=settings.EASYPOST_API_BASE,
        )
    return ManualBackend()
