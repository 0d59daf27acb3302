"""Ingredient lots in stock: received, counted down by compounding, refused once expired or recalled.

A lot used in compounding is matched against received stock by ingredient and lot number (and
manufacturer, when the record names one), case-insensitively; a lot never received here (an older
record, a sample) stays allowed and is simply not counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Upper
from django.utils import timezone
from simple_history.utils import update_change_reason

from accounts.models import User
from intake.clinical.quantities import LARGEST, QuantityError, quantity_in
from intake.errors import Forbidden, NotFound
from intake.models import Recall, StockLot, StockUnit

if TYPE_CHECKING:
    from intake.services.lots import LotInput

# The history table's change reason holds 100 characters.
REASON_LIMIT = 100


def may_receive(actor: User) -> bool:
    """Pharmacists and technicians receive stock; correcting a count is a pharmacist's."""
    return actor.is_pharmacist or actor.is_technician


def _amount(value: Any, *, field: str, allow_zero: bool) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: ["Enter a number."]}) from None
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationError({field: ["Enter a number more than 0." if not allow_zero else "Enter 0 or more."]})
    if amount > LARGEST or amount != amount.quantize(Decimal("0.001")):
        raise ValidationError({field: ["Enter at most 999,999,999.999, with up to three decimal places."]})
    return amount


def _text(value: Any, *, field: str, limit: int, required: bool, errors: dict[str, list[str]]) -> str:
    text = str(value or "").strip()
    if required and not text:
        errors[field] = ["This field is required."]
    elif len(text) > limit or any(ch in text for ch in "\r\n\t"):
        errors[field] = [f"Write it on one line, at most {limit} characters."]
    return text


@transaction.atomic(durable=True)
def stock_receive(
    *,
    actor: User,
    ingredient: str,
    lot: str,
    expires: date,
    unit: str,
    quantity: Decimal | str,
    manufacturer: str = "",
    low_stock_below: Decimal | str | None = None,
    received_at: datetime | None = None,
) -> StockLot:
    """Receive a lot of an ingredient into stock. Refused: a lot already expired, a lot already
    received (the same ingredient, manufacturer and lot number), a quantity of nothing."""
    if not may_receive(actor):
        raise Forbidden("Only a pharmacist or a technician may receive stock.")
    errors: dict[str, list[str]] = {}
    ingredient = _text(ingredient, field="ingredient", limit=120, required=True, errors=errors)
    manufacturer = _text(manufacturer, field="manufacturer", limit=120, required=False, errors=errors)
    lot = _text(lot, field="lot", limit=60, required=True, errors=errors)
    today = timezone.localdate()
    if not isinstance(expires, date):
        errors["expires"] = ["Enter the lot's expiry date."]
    elif expires < today:
        errors["expires"] = [f"This lot expired on {expires.isoformat()}: it may not be received."]
    if unit not in StockUnit.values:
        errors["unit"] = ["Choose the unit the lot is counted in."]
    received, low = Decimal(0), None
    try:
        received = _amount(quantity, field="quantity", allow_zero=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if low_stock_below is not None and low_stock_below != "":
        try:
            low = _amount(low_stock_below, field="low_stock_below", allow_zero=True)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if ingredient and lot and "lot" not in errors and _same_lot(ingredient, manufacturer, lot).exists():
        errors["lot"] = [_duplicate_message(ingredient, manufacturer, lot)]
    if errors:
        raise ValidationError(errors)
    try:
        # A savepoint: two receipts of one lot at once, the second is refused, not a 500.
        with transaction.atomic():
            return StockLot.objects.create(
                ingredient=ingredient, manufacturer=manufacturer, lot=lot, expires=expires, unit=unit,
                quantity_received=received, quantity_on_hand=received, low_stock_below=low,
                received_at=received_at or timezone.now(), received_by=actor,
            )  # fmt: skip
    except IntegrityError:
        raise ValidationError({"lot": [_duplicate_message(ingredient, manufacturer, lot)]}) from None


def _same_lot(ingredient: str, manufacturer: str, lot: str) -> QuerySet[StockLot]:
    return StockLot.objects.annotate(
        ingredient_upper=Upper("ingredient"), manufacturer_upper=Upper("manufacturer"), lot_upper=Upper("lot")
    ).filter(ingredient_upper=ingredient.upper(), manufacturer_upper=manufacturer.upper(), lot_upper=lot.upper())


def _duplicate_message(ingredient: str, manufacturer: str, lot: str) -> str:
    maker = f" from {manufacturer}" if manufacturer else ""
    return f"{ingredient} lot {lot}{maker} is already in stock: correct its count rather than receive it again."


@transaction.atomic(durable=True)
def stock_correct(*, actor: User, stock_lot_id: int, quantity_on_hand: Decimal | str, reason: str) -> StockLot:
    """Set a lot's count to what was counted on the shelf; pharmacists only, with the reason, which
    the lot's history keeps beside the change."""
    if not actor.is_pharmacist:
        raise Forbidden("Only a pharmacist may correct a stock count.")
    errors: dict[str, list[str]] = {}
    counted = Decimal(0)
    try:
        counted = _amount(quantity_on_hand, field="quantity_on_hand", allow_zero=True)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    why = _text(reason, field="reason", limit=REASON_LIMIT, required=True, errors=errors)
    if errors:
        raise ValidationError(errors)
    found = StockLot.objects.select_for_update().filter(pk=stock_lot_id).first()
    if found is None:
        raise NotFound("No such stock lot.")
    found.quantity_on_hand = counted
    found.save(update_fields=["quantity_on_hand"])
    update_change_reason(found, f"Counted by {actor.email}: {why}"[:REASON_LIMIT])
    return found


def stock_use(lots: Sequence[LotInput], *, on: date, field: str) -> list[StockLot | None]:
    """The received lot each of `lots` is taken from (None: not received through stock), counted
    down by its quantity used; ValidationError on `field` for a received lot that cannot be used.

    Called inside the caller's transaction: the matched rows stay locked until it commits, so two
    records drawing on one lot at once count it down one after the other, never below 0.
    """
    if not lots:
        return []
    wanted = Q()
    for item in lots:
        wanted |= Q(ingredient_upper=item.ingredient.strip().upper(), lot_upper=item.lot.strip().upper())
    # Locked in id order, whatever order the record lists its lots in: two records naming the
    # same two lots in opposite orders wait for each other instead of deadlocking.
    candidates = list(
        StockLot.objects.annotate(ingredient_upper=Upper("ingredient"), lot_upper=Upper("lot"))
        .filter(wanted)
        .order_by("pk")
        .select_for_update()
    )
    problems: list[str] = []
    taken: list[StockLot | None] = []
    used: dict[int, Decimal] = defaultdict(Decimal)
    for item in lots:
        named = f"{item.ingredient} lot {item.lot}"
        matches = [
            stock for stock in candidates
            if stock.ingredient.upper() == item.ingredient.strip().upper()
            and stock.lot.upper() == item.lot.strip().upper()
            and (not item.manufacturer.strip() or stock.manufacturer.upper() == item.manufacturer.strip().upper())
        ]  # fmt: skip
        if not matches:
            taken.append(None)
            continue
        if len(matches) > 1:
            makers = ", ".join(stock.manufacturer or "no manufacturer" for stock in matches)
            problems.append(f"{named} was received from more than one manufacturer ({makers}): name the one used.")
            taken.append(None)
            continue
        stock = matches[0]
        taken.append(stock)
        if stock.expires < on:
            problems.append(f"Lot {stock.lot} expired on {stock.expires.isoformat()}: it may not be used.")
            continue
        if item.expires != stock.expires:
            problems.append(f"{named} was received expiring on {stock.expires.isoformat()}: record that date.")
            continue
        try:
            amount = quantity_in(item.quantity_used, stock.unit)
        except QuantityError as exc:
            problems.append(f"{named}: {exc}")
            continue
        if amount is None:
            problems.append(f"{named} is counted in stock: give the quantity used (1.35 g, 500 mg, 30 each).")
            continue
        used[stock.pk] += amount
    for stock in candidates:
        if stock.pk in used and used[stock.pk] > stock.quantity_on_hand:
            problems.append(
                f"{stock.ingredient} lot {stock.lot} has {_number(stock.quantity_on_hand)} {stock.unit} on hand; "
                f"this uses {_number(used[stock.pk])} {stock.unit}."
            )
    if problems:
        raise ValidationError({field: problems})
    for stock in candidates:
        if stock.pk in used:
            stock.quantity_on_hand -= used[stock.pk]
            stock.save(update_fields=["quantity_on_hand"])
            update_change_reason(stock, f"Used: {_number(used[stock.pk])} {stock.unit}")
    return taken


def _number(amount: Decimal) -> str:
    return f"{amount.normalize():f}"


# Reads for the stock pages ---------------------------------------------------------------------


def expiry_warning_days() -> int:
    return int(settings.STOCK_EXPIRY_WARNING_DAYS)


def quarantined_lot_numbers(lot_numbers: Sequence[str]) -> set[str]:
    """Which of these lot numbers (upper-cased) are under an open recall."""
    wanted = {number.upper() for number in lot_numbers}
    if not wanted:
        return set()
    return set(
        Recall.objects.filter(closed_at__isnull=True)
        .annotate(lot_upper=Upper("lot"))
        .filter(lot_upper__in=wanted)
        .values_list("lot_upper", flat=True)
    )


@dataclass(frozen=True)
class StockRow:
    stock: StockLot
    expired: bool
    expiring_soon: bool
    low: bool
    quarantined: bool

    @property
    def usable(self) -> bool:
        return not (self.expired or self.quarantined) and self.stock.quantity_on_hand > 0


def stock_rows(lots: Sequence[StockLot], *, today: date | None = None) -> list[StockRow]:
    """Each lot with what the pharmacy should see about it today."""
    today = today or timezone.localdate()
    soon = today + timedelta(days=expiry_warning_days())
    quarantined = quarantined_lot_numbers([stock.lot for stock in lots])
    return [
        StockRow(
            stock=stock,
            expired=stock.expires < today,
            expiring_soon=today <= stock.expires <= soon,
            low=stock.low_stock_below is not None and stock.quantity_on_hand < stock.low_stock_below,
            quarantined=stock.lot.upper() in quarantined,
        )
        for stock in lots
    ]


def stock_to_watch(*, today: date | None = None) -> list[StockRow]:
    """Lots in stock that are low or expire within the warning days (not those already used up or
    expired: those are for the stock list)."""
    today = today or timezone.localdate()
    soon = today + timedelta(days=expiry_warning_days())
    lots = list(
        StockLot.objects.filter(quantity_on_hand__gt=0, expires__gte=today)
        .filter(Q(expires__lte=soon) | Q(quantity_on_hand__lt=F("low_stock_below")))
        .order_by("expires", "ingredient", "pk")
    )
    return stock_rows(lots, today=today)


def stock_lots_usable(*, today: date | None = None) -> list[StockLot]:
    """Received lots a compounder may pick from: unexpired, not used up, not quarantined."""
    today = today or timezone.localdate()
    lots = list(StockLot.objects.filter(quantity_on_hand__gt=0, expires__gte=today).order_by("ingredient", "expires"))
    return [row.stock for row in stock_rows(lots, today=today) if row.usable]
